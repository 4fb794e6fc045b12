#!/usr/bin/env escript
%% -*- erlang -*-
%%! -noinput
%%
%% megaco_codec.escript - H.248 (Megaco) text-codec oracle built on Erlang/OTP
%% megaco (Debian: erlang-base + erlang-megaco; no erlang-dev needed).
%%
%% It is the independent stack the Swift H248Codec is checked against:
%%
%%   gen <outdir>                 build megaco records for the Iq case set and
%%                                write <case>.v<N>.pretty / .compact, encoded
%%                                by megaco_pretty_text_encoder and
%%                                megaco_compact_text_encoder, for every
%%                                version (1..3) in which the case exists.
%%                                Each file is only written if OTP decodes it
%%                                back to the very record it was built from.
%%   check <file|-> [pretty|compact]
%%                                decode one message with OTP; prints
%%                                "OK <summary> hash=<h>" (exit 0) or
%%                                "ERROR <reason>" (exit 1).
%%   check-eq <A> <B> [<A2> <B2> ...]
%%                                decode both files of each pair and compare
%%                                the decoded records (after normalise/1);
%%                                "SAME <A> <B> <summary>" or
%%                                "DIFF <A> <B> at <path>: <a> <> <b>".
%%                                Exit 0 only if every pair is the same.
%%   roundtrip <dir>              decode every *.pretty/*.compact in dir and
%%                                re-encode it with the same encoder/version.
%%   bench <dir|msgs-file> <iterations>
%%                                OTP decode/encode time per message, one
%%                                machine-readable line per column, e.g.
%%                                "otp pretty decode_us=12.3".
%%   dump <file|->                print the decoded record term (debugging).
%%   cases                        list the case set (markdown table).
%%
%% Record layouts: OTP ships megaco_message_v{1,2,3}.hrl only in erlang-dev.
%% So that nothing beyond erlang-megaco is needed, this script reads OTP's own
%% record definitions at run time from the debug_info of the installed megaco
%% modules (megaco_text_parser_vN, megaco_pretty_text_encoder_vN, ...) and
%% builds each record by field name for the version in hand (see r/2).
%% A field that does not exist in a version's record (e.g. StreamParms
%% statisticsDescriptor in v1) makes that case "not in this version".
-module(megaco_codec).
-mode(compile).
-export([main/1]).

-define(CHOOSE_CTX, 16#FFFFFFFE).
-define(ALL_CTX, 16#FFFFFFFF).
-define(NULL_CTX, 0).
-define(VERSIONS, [1, 2, 3]).

usage() ->
    io:format(standard_error,
              "usage: megaco_codec.escript gen <outdir> | check <file|-> [pretty|compact]"
              " | check-eq <A> <B> [<A> <B> ...] | roundtrip <dir>"
              " | bench <dir|msgs-file> <iterations> | dump <file|-> | cases~n", []),
    halt(64).

main(["gen", Dir]) -> gen(Dir);
main(["check", F]) -> halt(check(F, [pretty, compact]));
main(["check", F, "pretty"]) -> halt(check(F, [pretty, compact]));
main(["check", F, "compact"]) -> halt(check(F, [compact, pretty]));
main(["check-eq" | Files]) when Files =/= [], length(Files) rem 2 =:= 0 ->
    halt(check_eq_pairs(Files, 0));
main(["roundtrip", Dir]) -> halt(roundtrip(Dir));
main(["bench", Path, N]) -> bench(Path, list_to_integer(N));
main(["bench", Path]) -> bench(Path, 200);
main(["dump", F]) ->
    case decode_file(F, [pretty, compact]) of
        {ok, M, _} -> io:format("~p~n", [M]), halt(0);
        {error, R} -> io:format("ERROR ~s~n", [oneline(R)]), halt(1)
    end;
main(["cases"]) -> print_case_table(), halt(0);
main(_) -> usage().

%% ===================================================================
%% Records from the installed OTP (debug_info of the megaco modules)
%% ===================================================================

record_table(V) ->
    Key = {?MODULE, records, V},
    case get(Key) of
        undefined ->
            T = build_record_table(V),
            put(Key, T),
            T;
        T -> T
    end.

build_record_table(V) ->
    S = integer_to_list(V),
    %% preference order: the text codec's own view first
    Mods = [list_to_atom(P ++ S) || P <- ["megaco_text_parser_v",
                                          "megaco_pretty_text_encoder_v",
                                          "megaco_compact_text_encoder_v",
                                          "megaco_binary_transformer_v",
                                          "megaco_ber_media_gateway_control_v"]]
        ++ [megaco_messenger],
    lists:foldl(fun(M, Acc) ->
                        lists:foldl(fun({Name, Fs}, A) ->
                                            case maps:is_key(Name, A) of
                                                true -> A;
                                                false -> A#{Name => Fs}
                                            end
                                    end, Acc, module_records(M))
                end, #{}, Mods).

module_records(M) ->
    case code:which(M) of
        File when is_list(File) ->
            case beam_lib:chunks(File, [abstract_code]) of
                {ok, {_, [{abstract_code, {raw_abstract_v1, Forms}}]}} ->
                    [{N, [field(F) || F <- Fs]}
                     || {attribute, _, record, {N, Fs}} <- Forms];
                _ -> []
            end;
        _ -> []
    end.

field({typed_record_field, F, _}) -> field(F);
field({record_field, _, {atom, _, N}}) -> {N, mandatory};
field({record_field, _, {atom, _, N}, D}) ->
    case catch erl_eval:expr(D, []) of
        {value, X, _} -> {N, {default, X}};
        _ -> {N, {default, undefined}}
    end.

%% r(RecordName, [{field, Value}]) -> tuple for the current version
r(Name, KVs) ->
    V = get(vsn),
    Fields = case maps:find(Name, record_table(V)) of
                 {ok, Fs} -> Fs;
                 error -> throw({not_in_version, V, Name})
             end,
    [case lists:keymember(K, 1, Fields) of
         true -> ok;
         false -> throw({not_in_version, V, {Name, K}})
     end || {K, _} <- KVs],
    Vals = [case lists:keyfind(F, 1, KVs) of
                {F, X} -> X;
                false ->
                    case D of
                        {default, X} -> X;
                        mandatory -> error({missing_field, Name, F})
                    end
            end || {F, D} <- Fields],
    list_to_tuple([Name | Vals]).

%% ===================================================================
%% Builders
%% ===================================================================

mid_ip4(A, P) ->
    {ok, {A1, A2, A3, A4}} = inet:parse_ipv4strict_address(A),
    {ip4Address, r('IP4Address', [{address, [A1, A2, A3, A4]},
                                  {portNumber, P}])}.
mid_ip6(A, P) ->
    {ok, T} = inet:parse_ipv6strict_address(A),
    Bytes = lists:append([[W bsr 8, W band 255] || W <- tuple_to_list(T)]),
    {ip6Address, r('IP6Address', [{address, Bytes}, {portNumber, P}])}.
mid_dom(N, P) -> {domainName, r('DomainName', [{name, N}, {portNumber, P}])}.
mid_dom(N) -> {domainName, r('DomainName', [{name, N}])}.
mid_dev(N) -> {deviceName, N}.

-define(MGC, mid_ip4("127.0.0.1", 2944)).
-define(MG, mid_ip4("127.0.0.1", 2945)).

msg(Mid, Ts) ->
    r('MegacoMessage',
      [{mess, r('Message', [{version, get(vsn)}, {mId, Mid},
                            {messageBody, {transactions, Ts}}])}]).
msg_error(Mid, ED) ->
    r('MegacoMessage',
      [{mess, r('Message', [{version, get(vsn)}, {mId, Mid},
                            {messageBody, {messageError, ED}}])}]).

treq(Id, Acts) ->
    {transactionRequest, r('TransactionRequest', [{transactionId, Id},
                                                  {actions, Acts}])}.
trep(Id, Reps) ->
    {transactionReply, r('TransactionReply',
                         [{transactionId, Id},
                          {transactionResult, {actionReplies, Reps}}])}.
trep_ia(Id, Reps) ->
    {transactionReply, r('TransactionReply',
                         [{transactionId, Id}, {immAckRequired, 'NULL'},
                          {transactionResult, {actionReplies, Reps}}])}.
trep_err(Id, ED) ->
    {transactionReply, r('TransactionReply',
                         [{transactionId, Id},
                          {transactionResult, {transactionError, ED}}])}.
tpend(Id) ->
    {transactionPending, r('TransactionPending', [{transactionId, Id}])}.
tack(Ranges) ->
    {transactionResponseAck,
     [case R of
          {A, B} -> r('TransactionAck', [{firstAck, A}, {lastAck, B}]);
          A -> r('TransactionAck', [{firstAck, A}])
      end || R <- Ranges]}.

ed(Code) -> r('ErrorDescriptor', [{errorCode, Code}]).
ed(Code, Text) -> r('ErrorDescriptor', [{errorCode, Code}, {errorText, Text}]).

ctx('$') -> ?CHOOSE_CTX;
ctx('*') -> ?ALL_CTX;
ctx('-') -> ?NULL_CTX;
ctx(N) when is_integer(N) -> N.

act(Ctx, Cmds) -> act(Ctx, asn1_NOVALUE, Cmds).
act(Ctx, CtxReq, Cmds) ->
    r('ActionRequest', [{contextId, ctx(Ctx)}, {contextRequest, CtxReq},
                        {commandRequests, [cmd(C) || C <- Cmds]}]).
act_audit(Ctx, CtxAudit, Cmds) ->
    r('ActionRequest', [{contextId, ctx(Ctx)}, {contextAttrAuditReq, CtxAudit},
                        {commandRequests, [cmd(C) || C <- Cmds]}]).

cmd({optional, C}) -> r('CommandRequest', [{command, C}, {optional, 'NULL'}]);
cmd({wildcard_return, C}) ->
    r('CommandRequest', [{command, C}, {wildcardReturn, 'NULL'}]);
cmd(C) -> r('CommandRequest', [{command, C}]).

rep(Ctx, Replies) ->
    r('ActionReply', [{contextId, ctx(Ctx)}, {commandReply, Replies}]).
rep_err(Ctx, ED) ->
    r('ActionReply', [{contextId, ctx(Ctx)}, {errorDescriptor, ED}]).
rep_err(Ctx, ED, Replies) ->
    r('ActionReply', [{contextId, ctx(Ctx)}, {errorDescriptor, ED},
                      {commandReply, Replies}]).
rep_ctx(Ctx, CtxReply, Replies) ->
    r('ActionReply', [{contextId, ctx(Ctx)}, {contextReply, CtxReply},
                      {commandReply, Replies}]).

%% termination ids: "ROOT", "$", "*", "ip/acc/1", "ip/*", "ip/$"
tid(S) ->
    Lower = string:lowercase(S),
    Levels = string:split(Lower, "/", all),
    Wild = lists:any(fun(L) -> L =:= "*" orelse L =:= "$" end, Levels),
    {megaco_term_id, Wild, Levels}.

add(T, Ds) -> {addReq, amm(T, Ds)}.
modify(T, Ds) -> {modReq, amm(T, Ds)}.
move(T, Ds) -> {moveReq, amm(T, Ds)}.
amm(T, Ds) -> r('AmmRequest', [{terminationID, [tid(T)]}, {descriptors, Ds}]).
subtract(T) -> {subtractReq, r('SubtractRequest', [{terminationID, [tid(T)]}])}.
subtract(T, AD) ->
    {subtractReq, r('SubtractRequest', [{terminationID, [tid(T)]},
                                        {auditDescriptor, AD}])}.
audit_value(T, AD) ->
    {auditValueRequest, r('AuditRequest', [{terminationID, tid(T)},
                                           {auditDescriptor, AD}])}.
audit_cap(T, AD) ->
    {auditCapRequest, r('AuditRequest', [{terminationID, tid(T)},
                                         {auditDescriptor, AD}])}.
notify(T, OED) ->
    {notifyReq, r('NotifyRequest', [{terminationID, [tid(T)]},
                                    {observedEventsDescriptor, OED}])}.
service_change(T, Parm) ->
    {serviceChangeReq, r('ServiceChangeRequest',
                         [{terminationID, [tid(T)]},
                          {serviceChangeParms, Parm}])}.

%% replies
amms_reply(Tag, T) -> {Tag, r('AmmsReply', [{terminationID, [tid(T)]}])}.
amms_reply(Tag, T, Audit) ->
    {Tag, r('AmmsReply', [{terminationID, [tid(T)]},
                          {terminationAudit, Audit}])}.
audit_reply(Tag, T, Res) ->
    {Tag, {auditResult, r('AuditResult', [{terminationID, tid(T)},
                                          {terminationAuditResult, Res}])}}.
notify_reply(T) -> {notifyReply, r('NotifyReply', [{terminationID, [tid(T)]}])}.
notify_reply(T, ED) ->
    {notifyReply, r('NotifyReply', [{terminationID, [tid(T)]},
                                    {errorDescriptor, ED}])}.
sc_reply(T, KVs) ->
    {serviceChangeReply,
     r('ServiceChangeReply',
       [{terminationID, [tid(T)]},
        {serviceChangeResult,
         {serviceChangeResParms, r('ServiceChangeResParm', KVs)}}])}.
sc_reply_err(T, ED) ->
    {serviceChangeReply,
     r('ServiceChangeReply', [{terminationID, [tid(T)]},
                              {serviceChangeResult, {errorDescriptor, ED}}])}.

%% descriptors
media(Streams) ->
    {mediaDescriptor, r('MediaDescriptor',
                        [{streams, {multiStream, Streams}}])}.
media(TSD, Streams) ->
    {mediaDescriptor, r('MediaDescriptor',
                        [{termStateDescr, TSD},
                         {streams, {multiStream, Streams}}])}.
media_tsd(TSD) ->
    {mediaDescriptor, r('MediaDescriptor', [{termStateDescr, TSD}])}.
stream(Id, KVs) ->
    r('StreamDescriptor', [{streamID, Id},
                           {streamParms, r('StreamParms', [kv(KV) || KV <- KVs])}]).
kv({lc, L}) -> {localControlDescriptor, L};
kv({local, S}) -> {localDescriptor, sdp(S)};
kv({remote, S}) -> {remoteDescriptor, sdp(S)};
kv({stats, S}) -> {statisticsDescriptor, [stat(N, V) || {N, V} <- S]}.

lc(KVs) -> r('LocalControlDescriptor', KVs).
prop(N, V) -> r('PropertyParm', [{name, N}, {value, [V]}]).

%% SDP text -> property groups, one group per "v=" line (alternatives)
sdp(Text) ->
    Lines = [L || L <- string:split(Text, "\n", all), L =/= ""],
    Props = [begin
                 [N, V] = string:split(L, "="),
                 prop(N, V)
             end || L <- Lines],
    r('LocalRemoteDescriptor', [{propGrps, group_sdp(Props, [])}]).
group_sdp([], Acc) -> lists:reverse([lists:reverse(G) || G <- Acc]);
group_sdp([P | T], Acc) ->
    case {element(2, P), Acc} of
        {"v", _} -> group_sdp(T, [[P] | Acc]);
        {_, []} -> group_sdp(T, [[P]]);
        {_, [G | Gs]} -> group_sdp(T, [[P | G] | Gs])
    end.

events(Rid, Evs) ->
    {eventsDescriptor, r('EventsDescriptor', [{requestID, Rid},
                                              {eventList, Evs}])}.
ev(Name) -> r('RequestedEvent', [{pkgdName, Name}]).
ev(Name, Pars) -> r('RequestedEvent', [{pkgdName, Name},
                                       {evParList, [evp(N, V) || {N, V} <- Pars]}]).
ev(Name, Pars, KVs) ->
    r('RequestedEvent', [{pkgdName, Name},
                         {evParList, [evp(N, V) || {N, V} <- Pars]} | KVs]).
evp(N, V) -> r('EventParameter', [{eventParameterName, N}, {value, [V]}]).

signals(Sigs) -> {signalsDescriptor, Sigs}.
sig(Name) -> {signal, r('Signal', [{signalName, Name}])}.
sig(Name, KVs) -> {signal, r('Signal', [{signalName, Name} | KVs])}.
sigp(N, V) -> r('SigParameter', [{sigParameterName, N}, {value, [V]}]).
siglist(Id, Sigs) ->
    {seqSigList, r('SeqSigList', [{id, Id},
                                  {signalList, [S || {signal, S} <- Sigs]}])}.

oed(Rid, Evs) ->
    r('ObservedEventsDescriptor', [{requestId, Rid}, {observedEventLst, Evs}]).
oev(Name, TS, Pars) -> oev(Name, TS, Pars, []).
oev(Name, TS, Pars, KVs) ->
    TN = case TS of
             none -> asn1_NOVALUE;
             {D, T} -> r('TimeNotation', [{date, D}, {time, T}])
         end,
    r('ObservedEvent', [{eventName, Name}, {timeNotation, TN},
                        {eventParList, [evp(N, V) || {N, V} <- Pars]} | KVs]).

stat(N, V) -> r('StatisticsParameter', [{statName, N}, {statValue, [V]}]).
stats(L) -> {statisticsDescriptor, [stat(N, V) || {N, V} <- L]}.
audit_desc(Items) -> r('AuditDescriptor', [{auditToken, Items}]).
audit_desc() -> r('AuditDescriptor', []).
packages(L) ->
    {packagesDescriptor, [r('PackagesItem', [{packageName, N},
                                             {packageVersion, V}])
                          || {N, V} <- L]}.
tsd(KVs) -> r('TerminationStateDescriptor', KVs).
topo(From, To, Dir) ->
    r('TopologyRequest', [{terminationFrom, tid(From)}, {terminationTo, tid(To)},
                          {topologyDirection, Dir}]).
ctx_req(KVs) -> r('ContextRequest', KVs).
scp(KVs) -> r('ServiceChangeParm', KVs).
profile(N, V) -> r('ServiceChangeProfile', [{profileName, N}, {version, V}]).
tn(D, T) -> r('TimeNotation', [{date, D}, {time, T}]).

%% ===================================================================
%% SDP bodies used by the cases (realistic Iq content)
%% ===================================================================

-define(SDP_CORE_RESERVE,
        "v=0\nc=IN IP4 $\nm=message $ TCP/MSRP *\na=setup:actpass\n").
-define(SDP_ACCESS_RESERVE,
        "v=0\nc=IN IP4 $\nm=message $ TCP/TLS/MSRP *\na=setup:actpass\n"
        "a=fingerprint:$\na=accept-types:message/cpim text/plain\n").
-define(SDP_UE_REMOTE,
        "v=0\nc=IN IP4 10.1.1.10\nm=message 50000 TCP/TLS/MSRP *\n"
        "a=setup:actpass\n"
        "a=fingerprint:sha-256 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:"
        "19:E5:7C:AB:3B:C8:B3:1B:60:F4:8A:99:3C:F0:7A:7D\n"
        "a=path:msrps://10.1.1.10:50000/kjhd37s2s20w2a;tcp\n"
        "a=accept-types:message/cpim text/plain\n").
-define(SDP_ACCESS_RESOLVED,
        "v=0\nc=IN IP4 192.0.2.1\nm=message 40001 TCP/TLS/MSRP *\n"
        "a=setup:actpass\n"
        "a=fingerprint:sha-256 AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:"
        "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89\n"
        "a=accept-types:message/cpim text/plain\n").
-define(SDP_CORE_RESOLVED,
        "v=0\nc=IN IP4 198.51.100.1\nm=message 40002 TCP/MSRP *\n"
        "a=setup:actpass\n").
-define(SDP_AUDIO_LOCAL,
        "v=0\nc=IN IP4 $\nm=audio $ RTP/AVP 0 8 101\na=rtpmap:101 telephone-event/8000\n"
        "a=ptime:20\n").
-define(SDP_AUDIO_REMOTE,
        "v=0\no=- 2890844526 2890842807 IN IP4 10.1.1.10\ns=-\nc=IN IP4 10.1.1.10\n"
        "t=0 0\nm=audio 49170 RTP/AVP 0 101\na=rtpmap:0 PCMU/8000\n"
        "a=rtpmap:101 telephone-event/8000\na=sendrecv\n").
-define(SDP_BFCP_LOCAL,
        "v=0\nc=IN IP4 $\nm=application $ TCP/TLS/BFCP *\na=setup:actpass\n"
        "a=fingerprint:$\na=floorctrl:c-s\na=confid:4321\na=userid:1234\n").

%% ===================================================================
%% The case set: {Name, Versions, Covers, fun() -> #'MegacoMessage'{}}
%% ===================================================================

cases() ->
    All = ?VERSIONS,
    [
     %% ---------------- ServiceChange (registration and friends) ---------
     {"sc_restart_register", All,
      "MG->MGC ServiceChange ROOT, Context -, Method Restart, Reason 901, "
      "Version, Profile; mId [ip4]:port",
      fun() ->
              msg(?MG, [treq(1, [act('-', [service_change("ROOT",
                  scp([{serviceChangeMethod, restart},
                       {serviceChangeReason, ["901 Cold Boot"]},
                       {serviceChangeVersion, get(vsn)},
                       {serviceChangeProfile, profile("ims_agw", 1)}]))])])])
      end},
     {"sc_restart_full_parms", All,
      "ServiceChange with Method, ServiceChangeAddress (port), Version, "
      "Profile, Reason, Delay and TimeStamp; mId <domain>:port",
      fun() ->
              msg(mid_dom("agw1.example.net", 2944),
                  [treq(2, [act('-', [service_change("ROOT",
                      scp([{serviceChangeMethod, restart},
                           {serviceChangeAddress, {portNumber, 2946}},
                           {serviceChangeVersion, get(vsn)},
                           {serviceChangeProfile, profile("ims_agw", 1)},
                           {serviceChangeReason, ["902 Warm Boot"]},
                           {serviceChangeDelay, 1500},
                           {timeStamp, tn("20251123", "08301500")}]))])])])
      end},
     {"sc_restart_address_ip4", All,
      "ServiceChange Restart with ServiceChangeAddress as [ip4]:port",
      fun() ->
              msg(?MG, [treq(9, [act('-', [service_change("ROOT",
                  scp([{serviceChangeMethod, restart},
                       {serviceChangeAddress,
                        {ip4Address, r('IP4Address', [{address, [127, 0, 0, 1]},
                                                      {portNumber, 2947}])}},
                       {serviceChangeReason, ["901 Cold Boot"]}]))])])])
      end},
     {"sc_restart_device_mid", All,
      "ServiceChange Restart 900 Service Restored; mId as device name",
      fun() ->
              msg(mid_dev("agw1"),
                  [treq(3, [act('-', [service_change("ROOT",
                      scp([{serviceChangeMethod, restart},
                           {serviceChangeReason, ["900 Service Restored"]}]))])])])
      end},
     {"sc_forced_out_of_service", All,
      "IMS-AGW out of service: ServiceChange ROOT Method Forced, Reason 905",
      fun() ->
              msg(?MG, [treq(4, [act('-', [service_change("ROOT",
                  scp([{serviceChangeMethod, forced},
                       {serviceChangeReason,
                        ["905 Termination taken out of service"]}]))])])])
      end},
     {"sc_graceful_delay", All,
      "ServiceChange Method Graceful with Delay 30 (s), Reason 908",
      fun() ->
              msg(?MG, [treq(5, [act('-', [service_change("ROOT",
                  scp([{serviceChangeMethod, graceful},
                       {serviceChangeReason, ["908 MG Impending Failure"]},
                       {serviceChangeDelay, 30}]))])])])
      end},
     {"sc_failover_mgcidtotry", All,
      "ServiceChange Method Failover, Reason 920, MgcIdToTry <domain>:port",
      fun() ->
              msg(?MG, [treq(6, [act('-', [service_change("ROOT",
                  scp([{serviceChangeMethod, failover},
                       {serviceChangeReason, ["920 Cold Failover"]},
                       {serviceChangeMgcId, mid_dom("mgc2.example.net", 2944)}]))])])])
      end},
     {"sc_handoff_from_mgc", All,
      "MGC->MG ServiceChange Method HandOff, Reason 903, MgcIdToTry [ip4]:port",
      fun() ->
              msg(?MGC, [treq(7, [act('-', [service_change("ROOT",
                  scp([{serviceChangeMethod, handOff},
                       {serviceChangeReason, ["903 MGC Directed Change"]},
                       {serviceChangeMgcId, mid_ip4("192.0.2.101", 2944)}]))])])])
      end},
     {"sc_disconnected_termination", All,
      "ServiceChange on one termination (not ROOT), Method Disconnected, "
      "Reason 906, context -",
      fun() ->
              msg(?MG, [treq(8, [act('-', [service_change("ip/acc/4712",
                  scp([{serviceChangeMethod, disconnected},
                       {serviceChangeReason,
                        ["906 Loss of lower layer connectivity"]}]))])])])
      end},
     {"sc_reply_version_profile", All,
      "MGC reply to registration: ServiceChange reply with Services "
      "{Version, Profile}",
      fun() ->
              msg(?MGC, [trep(1, [rep('-', [sc_reply("ROOT",
                  [{serviceChangeVersion, get(vsn)},
                   {serviceChangeProfile, profile("ims_agw", 1)}])])])])
      end},
     {"sc_reply_address_ts", All,
      "ServiceChange reply with ServiceChangeAddress and TimeStamp; "
      "mId <domain> without port",
      fun() ->
              msg(mid_dom("mgc.example.net"), [trep(2, [rep('-', [sc_reply("ROOT",
                  [{serviceChangeAddress, {portNumber, 2950}},
                   {timeStamp, tn("20251123", "08301599")}])])])])
      end},
     {"sc_reply_mgcidtotry", All,
      "ServiceChange reply redirecting the MG: MgcIdToTry <domain>:port",
      fun() ->
              msg(?MGC, [trep(5, [rep('-', [sc_reply("ROOT",
                  [{serviceChangeMgcId, mid_dom("mgc2.example.net", 2944)}])])])])
      end},
     {"sc_reply_empty", All,
      "ServiceChange reply without Services (plain acceptance)",
      fun() ->
              msg(?MGC, [trep(3, [rep('-', [sc_reply("ROOT", [])])])])
      end},
     {"sc_reply_error_461", All,
      "ServiceChange reply carrying Error 461 (unsupported profile) inside "
      "the command reply",
      fun() ->
              msg(?MGC, [trep(4, [rep('-', [sc_reply_err("ROOT",
                  ed(461, "Unsupported or Unknown Profile"))])])])
      end},

     %% ---------------- Add (Reserve / Reserve and Configure) -------------
     {"add_reserve_core", All,
      "Reserve AGW Connection Point (core, TCP proxy): Context $ with "
      "Priority, Add $, Media Stream LocalControl {Mode Inactive, "
      "ipdc/realm}, Local SDP with $ (m=message $ TCP/MSRP *, "
      "a=setup:actpass), Events hangterm/thb{timerx}",
      fun() ->
              msg(?MGC, [treq(5001, [act('$', ctx_req([{priority, 0}]), [
                  add("$", [media([stream(1, [
                                {lc, lc([{streamMode, inactive},
                                         {propertyParms,
                                          [prop("ipdc/realm", "core")]}])},
                                {local, ?SDP_CORE_RESERVE}])]),
                            events(1, [ev("hangterm/thb", [{"timerx", "60"}])])])])])])
      end},
     {"add_reserve_access_e2ae", All,
      "Reserve and Configure access termination (e2ae MSRP): Add $ in "
      "context 77, LocalControl {Mode, ipdc/realm, ipnapt/latch}, Local "
      "(c=IN IP4 $, m=message $ TCP/TLS/MSRP *, a=setup:actpass, "
      "a=fingerprint:$), Remote with the UE's address and a=fingerprint, "
      "Events with two requested events",
      fun() ->
              msg(?MGC, [treq(5002, [act(77, [
                  add("$", [media([stream(1, [
                                {lc, lc([{streamMode, inactive},
                                         {propertyParms,
                                          [prop("ipdc/realm", "access"),
                                           prop("ipnapt/latch", "on")]}])},
                                {local, ?SDP_ACCESS_RESERVE},
                                {remote, ?SDP_UE_REMOTE}])]),
                            events(2, [ev("hangterm/thb", [{"timerx", "60"}]),
                                       ev("g/cause")])])])])])
      end},
     {"add_reply_resolved", All,
      "MG reply to the reserves: two transactions; Add reply naming the "
      "ephemeral termination and the resolved Local SDP (fingerprint)",
      fun() ->
              msg(mid_ip4("192.0.2.200", 2944), [
                  trep(5001, [rep(77, [amms_reply(addReply, "ip/core/4711",
                      [media([stream(1, [{local, ?SDP_CORE_RESOLVED}])])])])]),
                  trep(5002, [rep(77, [amms_reply(addReply, "ip/acc/4712",
                      [media([stream(1, [{local, ?SDP_ACCESS_RESOLVED}])])])])])])
      end},
     {"add_audio_two_streams", All,
      "Add with two streams (audio RTP and MSRP), LocalControl Mode "
      "SendReceive/ReceiveOnly, Local and Remote SDP with o=/s=/t= lines",
      fun() ->
              msg(?MGC, [treq(20, [act('$', [
                  add("$", [media([
                      stream(1, [{lc, lc([{streamMode, sendRecv}])},
                                 {local, ?SDP_AUDIO_LOCAL},
                                 {remote, ?SDP_AUDIO_REMOTE}]),
                      stream(2, [{lc, lc([{streamMode, recvOnly}])},
                                 {local, ?SDP_CORE_RESERVE}])])])])])])
      end},
     {"add_reserve_value_group", All,
      "LocalControl with ReservedValue ON, ReservedGroup OFF, Mode SendOnly "
      "and several properties (ds/dscp, tman/pol, tman/sdr, gm/saf); "
      "Local with two alternative SDP groups (two v=0)",
      fun() ->
              msg(?MGC, [treq(21, [act('$', [
                  add("$", [media([stream(1, [
                      {lc, lc([{streamMode, sendOnly},
                               {reserveValue, true},
                               {reserveGroup, false},
                               {propertyParms,
                                [prop("ds/dscp", "2e"),
                                 prop("tman/pol", "on"),
                                 prop("tman/sdr", "12000"),
                                 prop("gm/saf", "on")]}])},
                      {local, "v=0\nc=IN IP4 $\nm=audio $ RTP/AVP 0\n"
                              "v=0\nc=IN IP4 $\nm=audio $ RTP/AVP 8\n"}])])])])])])
      end},
     {"add_bfcp_ipv6", All,
      "Add for BFCP over TLS (m=application $ TCP/TLS/BFCP *, floorctrl, "
      "confid, userid) and a second termination with IPv6 SDP; mId [IPv6]:port",
      fun() ->
              msg(mid_ip6("2001:db8::100", 2944), [treq(22, [act(78, [
                  add("$", [media([stream(3, [{local, ?SDP_BFCP_LOCAL}])])]),
                  add("$", [media([stream(3, [{local,
                      "v=0\nc=IN IP6 $\nm=application $ TCP/BFCP *\n"
                      "a=setup:passive\n"}])])])])])])
      end},
     {"add_context_attrs", All,
      "Context attributes on a new context: Priority 5, Emergency, Topology "
      "(T1,T2 oneway; T2,T1 isolate)",
      fun() ->
              msg(?MGC, [treq(23, [act('$',
                  ctx_req([{priority, 5}, {emergency, true},
                           {topologyReq, [topo("ip/acc/1", "ip/core/2", oneway),
                                          topo("ip/core/2", "ip/acc/1", isolate)]}]),
                  [add("ip/acc/1", []), add("ip/core/2", [])])])])
      end},
     {"add_context_attrs_v3", [3],
      "v3 context attributes on an existing context: Priority, "
      "EmergencyOff, Topology bothway, IEPSCall, ContextAttr property",
      fun() ->
              msg(?MGC, [treq(24, [act(79,
                  ctx_req([{priority, 15}, {emergency, false},
                           {topologyReq, [topo("ip/acc/1", "ip/core/2", bothway)]},
                           {iepscallind, true},
                           {contextProp, [prop("ipdc/realm", "core")]}]),
                  [modify("ip/acc/1", [])])])])
      end},
     {"add_events_embedded", All,
      "Events with parameters, stream, KeepActive and an embedded "
      "Signals + second Events descriptor; Signals in the same Add",
      fun() ->
              Embedded =
                  r('RequestedActions',
                    [{signalsDescriptor, [sig("al/ri")]},
                     {secondEvent,
                      r('SecondEventsDescriptor',
                        [{requestID, 8},
                         {eventList, [r('SecondRequestedEvent',
                                        [{pkgdName, "al/on"}])]}])}]),
              msg(?MGC, [treq(25, [act('$', [
                  add("$", [events(7, [ev("al/of", [{"strict", "state"}],
                                          [{eventAction, Embedded}]),
                                       ev("nt/netfail", [], [{streamID, 1}]),
                                       ev("g/cause", [],
                                          [{eventAction,
                                            r('RequestedActions',
                                              [{keepActive, true}])}])])])])])])
      end},
     {"add_optional_wildcard_return", All,
      "Command prefixes: optional command (O-) and wildcard return (W-) on "
      "a partially wildcarded TerminationID (ip/acc/*)",
      fun() ->
              msg(?MGC, [treq(26, [act(80, [
                  {optional, add("ip/acc/7", [])},
                  {wildcard_return, subtract("ip/acc/*")}])])])
      end},

     %% ---------------- Modify --------------------------------------------
     {"modify_configure", All,
      "Configure AGW Connection Point: two Modify in one action; Remote SDP "
      "(a=setup:active), Mode SendReceive, Signals with one signal",
      fun() ->
              msg(?MGC, [treq(5003, [act(77, [
                  modify("ip/core/4711", [media([stream(1, [
                      {lc, lc([{streamMode, sendRecv}])},
                      {remote, "v=0\nc=IN IP4 203.0.113.5\n"
                               "m=message 7654 TCP/MSRP *\na=setup:active\n"}])])]),
                  modify("ip/acc/4712", [media([stream(1, [
                                            {lc, lc([{streamMode, sendRecv}])}])]),
                                         signals([sig("tlsbsc/establish")])])])])])
      end},
     {"modify_signals_full", All,
      "Signals with parameters, SignalType, Duration, NotifyCompletion, "
      "KeepActive, Stream, and a SignalList",
      fun() ->
              msg(?MGC, [treq(27, [act(81, [
                  modify("ip/acc/1", [signals([
                      sig("cg/rt", [{streamID, 1}, {sigType, timeOut},
                                    {duration, 3000},
                                    {notifyCompletion, [onTimeOut,
                                                        onInterruptByEvent]},
                                    {keepActive, true},
                                    {sigParList, [sigp("tl", "12")]}]),
                      siglist(9, [sig("cg/bt", [{sigType, brief}]),
                                  sig("cg/ct", [{sigType, onOff}])])])])])])])
      end},
     {"modify_signals_v3", [3],
      "v3 signal parameters: Direction, RequestID, Intersignal delay, "
      "NotifyCompletion Iteration",
      fun() ->
              msg(?MGC, [treq(28, [act(81, [
                  modify("ip/acc/1", [signals([
                      sig("cg/rt", [{direction, external}, {requestID, 33},
                                    {intersigDelay, 100},
                                    {notifyCompletion, [onTimeOut]}])])])])])])
      end},
     {"modify_empty_events_signals", All,
      "Modify clearing Events and Signals (empty descriptors)",
      fun() ->
              msg(?MGC, [treq(29, [act(81, [
                  modify("ip/acc/1", [{eventsDescriptor,
                                       r('EventsDescriptor',
                                         [{requestID, asn1_NOVALUE},
                                          {eventList, []}])},
                                      signals([])])])])])
      end},
     {"modify_root_inactivity", All,
      "Inactivity monitoring: Modify ROOT in Context - with Events "
      "it/ito{mit}",
      fun() ->
              msg(?MGC, [treq(5020, [act('-', [
                  modify("ROOT", [events(3, [ev("it/ito", [{"mit", "12000"}])])])])])])
      end},
     {"modify_termstate", All,
      "TerminationState descriptor (ServiceStates, Buffer, property) inside "
      "Media, plus a stream-level Local",
      fun() ->
              msg(?MGC, [treq(30, [act('-', [
                  modify("ip/acc/2", [media(tsd([{propertyParms,
                                                  [prop("ipdc/realm", "access")]},
                                                 {eventBufferControl, off},
                                                 {serviceState, outOfSvc}]),
                                            [stream(1, [{local,
                                                         "v=0\nc=IN IP4 $\n"
                                                         "m=audio $ RTP/AVP 0\n"}])])])])])])
      end},
     {"modify_stream_statistics", [3],
      "Statistics descriptor inside a Stream (OTP has it in v3 records only)",
      fun() ->
              msg(?MGC, [treq(31, [act(82, [
                  modify("ip/acc/3", [media([stream(1, [
                      {lc, lc([{streamMode, sendRecv}])},
                      {stats, [{"rtp/ps", "1200"}, {"rtp/pr", "1190"}]}])])])])])])
      end},

     %% ---------------- Subtract / Move --------------------------------------
     {"subtract_two", All,
      "Release: two Subtract commands in one action",
      fun() ->
              msg(?MGC, [treq(5010, [act(77, [subtract("ip/acc/4712"),
                                              subtract("ip/core/4711")])])])
      end},
     {"subtract_all_audit_stats", All,
      "Subtract = * in a context, with Audit { Statistics } requested",
      fun() ->
              msg(?MGC, [treq(5011, [act(77, [
                  subtract("*", audit_desc([statsToken]))])])])
      end},
     {"subtract_reply_stats", All,
      "Subtract reply carrying a Statistics descriptor per termination",
      fun() ->
              msg(mid_ip4("192.0.2.200", 2944), [trep(5011, [rep(77, [
                  amms_reply(subtractReply, "ip/acc/4712",
                             [stats([{"nt/os", "45123"}, {"nt/or", "39874"},
                                     {"nt/dur", "123000"}])]),
                  amms_reply(subtractReply, "ip/core/4711",
                             [stats([{"nt/os", "39874"}, {"nt/or", "45123"}])])])])])
      end},
     {"move", All,
      "Move a termination into another context, with Media and Events",
      fun() ->
              msg(?MGC, [treq(32, [act(78, [
                  move("ip/acc/4712", [media([stream(1, [
                                           {lc, lc([{streamMode, inactive}])}])]),
                                       events(4, [ev("hangterm/thb",
                                                     [{"timerx", "30"}])])])])])])
      end},
     {"move_reply", All,
      "Move reply",
      fun() ->
              msg(?MG, [trep(32, [rep(78, [amms_reply(moveReply, "ip/acc/4712")])])])
      end},

     %% ---------------- Audit -------------------------------------------------
     {"auditvalue_root_empty", All,
      "Keep-alive: AuditValue ROOT with empty Audit {} in Context -",
      fun() ->
              msg(?MGC, [treq(40, [act('-', [audit_value("ROOT", audit_desc())])])])
      end},
     {"auditvalue_items", All,
      "AuditValue on a termination asking for Media, Events, Signals, "
      "ObservedEvents, Statistics, Packages, EventBuffer",
      fun() ->
              msg(?MGC, [treq(41, [act(77, [audit_value("ip/acc/4712",
                  audit_desc([mediaToken, eventsToken, signalsToken,
                              observedEventsToken, statsToken, packagesToken,
                              eventBufferToken]))])])])
      end},
     {"auditvalue_ctx_all_wildcard", All,
      "AuditValue in Context * on TerminationID * (find every context; "
      "the end-of-test leak check)",
      fun() ->
              msg(?MGC, [treq(42, [act('*', [audit_value("*", audit_desc())])])])
      end},
     {"auditvalue_reply_root", All,
      "AuditValue reply on ROOT with Packages and a TerminationState "
      "property (root/maxNumberOfContexts)",
      fun() ->
              msg(?MG, [trep(40, [rep('-', [audit_reply(auditValueReply, "ROOT",
                  [packages([{"g", 1}, {"root", 2}, {"hangterm", 1},
                             {"ipnapt", 1}, {"it", 1}]),
                   media_tsd(tsd([{propertyParms,
                                   [prop("root/maxnumberofcontexts", "10000")]}]))])])])])
      end},
     {"auditvalue_reply_media_events", All,
      "AuditValue reply on a termination with Media (Local/Remote), Events, "
      "Signals, ObservedEvents and Statistics",
      fun() ->
              msg(?MG, [trep(41, [rep(77, [audit_reply(auditValueReply,
                  "ip/acc/4712",
                  [media([stream(1, [{lc, lc([{streamMode, sendRecv}])},
                                     {local, ?SDP_ACCESS_RESOLVED},
                                     {remote, ?SDP_UE_REMOTE}])]),
                   events(2, [ev("hangterm/thb", [{"timerx", "60"}])]),
                   signals([]),
                   {observedEventsDescriptor,
                    oed(2, [oev("hangterm/thb", {"20251123", "08450000"}, [])])},
                   stats([{"nt/os", "1200"}])])])])])
      end},
     {"auditvalue_reply_error", All,
      "AuditValue reply with an Error descriptor inside the audit result "
      "(431 no termination matched)",
      fun() ->
              msg(?MG, [trep(42, [rep('*', [audit_reply(auditValueReply, "*",
                  [{errorDescriptor, ed(431, "No TerminationID matched a wildcard")}])])])])
      end},
     {"auditcap_request", All,
      "AuditCapability on ROOT for Media, Events, Signals, Packages",
      fun() ->
              msg(?MGC, [treq(43, [act('-', [audit_cap("ROOT",
                  audit_desc([mediaToken, eventsToken, signalsToken,
                              packagesToken]))])])])
      end},
     {"auditcap_reply", All,
      "AuditCapability reply with Media/LocalControl capabilities and "
      "Events",
      fun() ->
              msg(?MG, [trep(43, [rep('-', [audit_reply(auditCapReply, "ROOT",
                  [media([stream(1, [{lc, lc([{streamMode, sendRecv},
                                              {propertyParms,
                                               [prop("ipnapt/latch", "on")]}])}])]),
                   events(0, [ev("hangterm/thb"), ev("it/ito")])])])])])
      end},

     %% ---------------- Notify -------------------------------------------------
     {"notify_thb", All,
      "Termination heartbeat: Notify with ObservedEvents (timestamp) from "
      "the MG; mId [ip4]:port",
      fun() ->
              msg(mid_ip4("192.0.2.200", 2944), [treq(9001, [act(77, [
                  notify("ip/acc/4712", oed(2, [oev("hangterm/thb",
                                                    {"20250101", "12000000"},
                                                    [])]))])])])
      end},
     {"notify_events_params", All,
      "Notify with several observed events: with and without timestamp, "
      "with parameters and a stream",
      fun() ->
              msg(?MG, [treq(9002, [act(77, [
                  notify("ip/acc/4712", oed(2, [
                      oev("g/cause", {"20251123", "08451234"},
                          [{"gencause", "ft"}, {"failurecause", "TLS handshake failed"}]),
                      oev("nt/netfail", none, [{"cs", "remote closed"}],
                          [{streamID, 1}])]))])])])
      end},
     {"notify_root_inactivity", All,
      "Inactivity timeout indication: Notify ROOT it/ito in Context -",
      fun() ->
              msg(?MG, [treq(9003, [act('-', [
                  notify("ROOT", oed(3, [oev("it/ito", {"20251123", "09000000"},
                                             [])]))])])])
      end},
     {"notify_reply", All,
      "MGC reply to a Notify",
      fun() ->
              msg(?MGC, [trep(9001, [rep(77, [notify_reply("ip/acc/4712")])])])
      end},
     {"notify_reply_error_435", All,
      "MGC rejects a Notify for an unknown termination (error in the "
      "command reply)",
      fun() ->
              msg(?MGC, [trep(9002, [rep(77, [notify_reply("ip/acc/9999",
                  ed(435, "Termination ID is not in specified Context"))])])])
      end},

     %% ---------------- Errors, Pending, acks ----------------------------------
     {"reply_error_430", All,
      "Action reply with Error 430 Unknown TerminationID",
      fun() ->
              msg(?MG, [trep(14, [rep_err(999, ed(430, "Unknown TerminationID"))])])
      end},
     {"reply_error_449_value", All,
      "Error 449 whose text carries the offending value (TS 29.334 5.17.1)",
      fun() ->
              msg(?MG, [trep(5002, [rep_err(77,
                  ed(449, "Unsupported or Unknown Parameter or Property Value: ipdc/realm=core7"))])])
      end},
     {"reply_error_no_text", All,
      "Error descriptor without text (Error = 510 { })",
      fun() ->
              msg(?MG, [trep(60, [rep_err(77, ed(510))])])
      end},
     {"reply_error_after_commands", All,
      "Action reply with a successful command reply followed by an Error "
      "(442) for the failed command",
      fun() ->
              msg(?MG, [trep(61, [rep_err(77, ed(442, "Syntax error in command"),
                                          [amms_reply(modReply, "ip/acc/1")])])])
      end},
     {"reply_transaction_error", All,
      "Transaction-level error: Reply = N { Error = 506 {...} }",
      fun() ->
              msg(?MG, [trep_err(62, ed(506, "Number of Transaction Pendings Exceeded"))])
      end},
     {"message_error_400", All,
      "Message-level error (no transactions): Error = 400 in the message body",
      fun() ->
              msg_error(?MG, ed(400, "Syntax error in message"))
      end},
     {"reply_imm_ack", All,
      "Reply with ImmAckRequired, context reply with an Add",
      fun() ->
              msg(?MG, [trep_ia(70, [rep(90, [amms_reply(addReply, "ip/acc/90")])])])
      end},
     {"reply_context_topology", All,
      "Action reply with a context reply (Priority, Emergency, Topology) "
      "and a Modify reply",
      fun() ->
              msg(?MG, [trep(71, [rep_ctx(91,
                  ctx_req([{priority, 3}, {emergency, true},
                           {topologyReq, [topo("ip/acc/1", "ip/core/2", bothway)]}]),
                  [amms_reply(modReply, "ip/acc/1")])])])
      end},
     {"context_audit_v3", [3],
      "v3 ContextAudit request (Topology, Emergency, Priority) with a "
      "ContextAttr selection",
      fun() ->
              msg(?MGC, [treq(72, [act_audit(91,
                  r('ContextAttrAuditRequest', [{topology, 'NULL'},
                                                {emergency, 'NULL'},
                                                {priority, 'NULL'}]),
                  [])])])
      end},
     {"pending", All,
      "Pending for a long-running transaction",
      fun() -> msg(?MG, [tpend(5002)]) end},
     {"response_ack_ranges", All,
      "TransactionResponseAck with ranges and single ids: K { 5001-5003, 5007 }",
      fun() -> msg(?MGC, [tack([{5001, 5003}, 5007, {6000, 6010}])]) end},
     {"multi_transactions", All,
      "Several transactions in one message: request, reply, pending and a "
      "TransactionResponseAck piggy-backed together",
      fun() ->
              msg(?MGC, [tack([70]),
                         trep(9003, [rep('-', [notify_reply("ROOT")])]),
                         treq(100, [act('-', [audit_value("ROOT", audit_desc())])]),
                         treq(101, [act(77, [subtract("ip/acc/4712")]),
                                    act(78, [subtract("*")])]),
                         tpend(9010)])
      end},
     {"ctx_choose_multi_action", All,
      "One transaction with three actions: Context $ (new), a numbered "
      "context and Context - (null)",
      fun() ->
              msg(mid_dom("mgc.example.net", 2944), [treq(110, [
                  act('$', [add("$", [])]),
                  act(4294967293, [modify("ip/acc/1", [])]),
                  act('-', [audit_value("ROOT", audit_desc())])])])
      end},
     {"termid_partial_choose", All,
      "Partially wildcarded CHOOSE TerminationID (ip/acc/$) in Add and a "
      "partial ALL wildcard (ip/*/7) in AuditValue",
      fun() ->
              msg(?MGC, [treq(130, [act('$', [add("ip/acc/$", [])]),
                                    act(77, [audit_value("ip/*/7", audit_desc())])])])
      end},
     {"reply_multi_action", All,
      "One Reply with three action replies (two contexts and the null "
      "context)",
      fun() ->
              msg(?MG, [trep(131, [rep(77, [amms_reply(subtractReply, "ip/acc/1")]),
                                   rep(78, [amms_reply(subtractReply, "ip/core/2")]),
                                   rep('-', [audit_reply(auditValueReply, "ROOT", [])])])])
      end},
     {"sdp_dash_values", All,
      "Local/Remote SDP with '-' (no media function / don't care) and '$' "
      "values: m=message $ TCP -, c=IN IP4 $, m=message - TCP/TLS -",
      fun() ->
              msg(mid_ip4("192.0.2.100", 2944), [treq(132, [act('$', [
                  add("$", [media([stream(1, [
                      {lc, lc([{streamMode, inactive}])},
                      {local, "v=0\nc=IN IP4 $\nm=message $ TCP -\na=setup:actpass\n"},
                      {remote, "v=0\nc=IN IP4 -\nm=message - TCP/TLS -\n"}])])])])])])
      end},
     {"modify_modes_loopback", All,
      "LocalControl modes across three streams: Loopback, Inactive, "
      "ReceiveOnly",
      fun() ->
              msg(?MGC, [treq(133, [act(77, [
                  modify("ip/acc/1", [media([
                      stream(1, [{lc, lc([{streamMode, loopBack}])}]),
                      stream(2, [{lc, lc([{streamMode, inactive}])}]),
                      stream(3, [{lc, lc([{streamMode, recvOnly}])}])])])])])])
      end},
     {"auditvalue_indaud_v2", [2, 3],
      "v2+ individual audit: Audit { Packages { hangterm-1 }, Statistics "
      "{ nt/os } }",
      fun() ->
              msg(?MGC, [treq(134, [act(77, [audit_value("ip/acc/1",
                  r('AuditDescriptor',
                    [{auditPropertyToken,
                      [{indAudPackagesDescriptor,
                        r('IndAudPackagesDescriptor', [{packageName, "hangterm"},
                                                       {packageVersion, 1}])},
                       {indAudStatisticsDescriptor,
                        r('IndAudStatisticsDescriptor', [{statName, "nt/os"}])}]}]))])])])
      end},
     {"segment_reply_v3", [3],
      "v3 segmentation: segmented Reply (segment number, END) and a "
      "SegmentReply",
      fun() ->
              msg(?MG, [{transactionReply,
                         r('TransactionReply',
                           [{transactionId, 120},
                            {transactionResult, {actionReplies,
                                                 [rep(92, [amms_reply(addReply,
                                                                      "ip/acc/92")])]}},
                            {segmentNumber, 2},
                            {segmentationComplete, 'NULL'}])},
                        {segmentReply, r('SegmentReply',
                                         [{transactionId, 121},
                                          {segmentNumber, 1}])}])
      end}
    ].

%% ===================================================================
%% gen
%% ===================================================================

gen(Dir) ->
    ok = filelib:ensure_dir(filename:join(Dir, "x")),
    Res = [gen_case(Dir, C) || C <- cases()],
    Written = lists:sum([length(W) || {_, W, _} <- Res]),
    io:format("~n~p cases, ~p files written to ~s~n",
              [length(Res), Written * 2, Dir]),
    Problems = [{N, S} || {N, _, Skips} <- Res, {_, S} <- Skips, S =/= absent],
    [io:format("NOTE ~s: ~s~n", [N, S]) || {N, S} <- Problems],
    write_index(Dir, Res),
    halt(case [N || {N, [], _} <- Res] of
             [] -> 0;
             Empty -> io:format("cases with no fixture: ~p~n", [Empty]), 1
         end).

gen_case(Dir, {Name, Versions, _Covers, Fun}) ->
    Results = [{V, gen_version(Dir, Name, V, Fun)} || V <- ?VERSIONS],
    Written = [V || {V, ok} <- Results],
    Skips = [{V, case lists:member(V, Versions) of
                     true -> R;
                     false -> absent
                 end} || {V, {skip, R}} <- Results],
    io:format("~-34s v~s~s~n",
              [Name, lists:join(",", [integer_to_list(V) || V <- Written]),
               [io_lib:format("  (v~p: ~s)", [V, R]) || {V, R} <- Skips, R =/= absent]]),
    {Name, Written, Skips}.

gen_version(Dir, Name, V, Fun) ->
    put(vsn, V),
    {_, Versions, _, _} = lists:keyfind(Name, 1, cases()),
    case lists:member(V, Versions) of
        false -> {skip, absent};
        true ->
            try Fun() of
                Msg ->
                    case {encode(pretty, V, Msg), encode(compact, V, Msg)} of
                        {{ok, P}, {ok, C}} ->
                            case {verify(pretty, P, Msg), verify(compact, C, Msg)} of
                                {ok, ok} ->
                                    Base = filename:join(Dir, Name ++ ".v" ++
                                                             integer_to_list(V)),
                                    ok = file:write_file(Base ++ ".pretty", P),
                                    ok = file:write_file(Base ++ ".compact", C),
                                    ok;
                                {E1, E2} ->
                                    {skip, oneline({not_round_trip, E1, E2})}
                            end;
                        {E1, E2} ->
                            {skip, oneline({encode_failed, E1, E2})}
                    end
            catch
                throw:{not_in_version, _, What} ->
                    {skip, oneline({not_in_version, What})};
                C:E:St ->
                    {skip, oneline({C, E, hd(St)})}
            end
    end.

encode(Enc, V, Msg) ->
    case catch (enc_mod(Enc)):encode_message([], V, Msg) of
        {ok, Bin} -> {ok, iolist_to_binary(Bin)};
        Other -> {error, Other}
    end.

%% the fixture must decode (with both decoders) to the record it came from
verify(Enc, Bin, Msg) ->
    case decode(Enc, Bin) of
        {ok, Msg} -> ok;
        {ok, Other} -> {decoded_differently, first_diff(Msg, Other, [])};
        Err -> Err
    end.

enc_mod(pretty) -> megaco_pretty_text_encoder;
enc_mod(compact) -> megaco_compact_text_encoder.

decode(Enc, Bin) ->
    case catch (enc_mod(Enc)):decode_message([], dynamic, Bin) of
        {ok, M} -> {ok, M};
        {error, R} -> {error, R};
        Other -> {error, Other}
    end.

write_index(Dir, Res) ->
    Lines = [[N, $\t, lists:join(",", [integer_to_list(V) || V <- W]), $\t,
              covers(N), $\n] || {N, W, _} <- Res, W =/= []],
    ok = file:write_file(filename:join(Dir, "INDEX.tsv"),
                         ["# case\tversions\tcovers (generated by megaco_codec.escript gen)\n",
                          Lines]).

covers(Name) ->
    {_, _, Covers, _} = lists:keyfind(Name, 1, cases()),
    Covers.

print_case_table() ->
    io:format("| case | versions | covers |~n| --- | --- | --- |~n"),
    [io:format("| `~s` | ~s | ~s |~n",
               [N, lists:join(",", [integer_to_list(V) || V <- Vs]), C])
     || {N, Vs, C, _} <- cases()].

%% ===================================================================
%% check / check-eq / dump
%% ===================================================================

read_input("-") -> file:read_file("/dev/stdin");
read_input(F) -> file:read_file(F).

%% try the decoders in order; both share OTP's scanner and parser, so either
%% accepts long and short tokens; the first that succeeds wins
decode_file(F, Order) ->
    case read_input(F) of
        {ok, Bin} -> decode_any(Bin, Order, []);
        {error, R} -> {error, {read_failed, F, R}}
    end.

decode_any(_Bin, [], Errs) -> {error, lists:reverse(Errs)};
decode_any(Bin, [Enc | T], Errs) ->
    case decode(Enc, Bin) of
        {ok, M} -> {ok, M, Enc};
        {error, R} -> decode_any(Bin, T, [{Enc, short_reason(R)} | Errs])
    end.

short_reason(R) when is_list(R) ->
    case lists:keyfind(reason, 1, R) of
        {reason, Reason, Line} -> {Reason, {line, Line}};
        {reason, Reason} -> Reason;
        false -> R
    end;
short_reason({'EXIT', {{case_clause, {error, Why, _Tokens, Line}}, _}}) ->
    {Why, {line, Line}};
short_reason({'EXIT', {Why, _Stack}}) -> {crash, Why};
short_reason(R) -> R.

check(F, Order) ->
    case decode_file(F, Order) of
        {ok, M, Enc} ->
            io:format("OK ~s decoder=~p hash=~s~n",
                      [summary(M), Enc, hash(normalise(M))]),
            0;
        {error, R} ->
            io:format("ERROR ~s~n", [oneline(R)]),
            1
    end.

check_eq_pairs([], Worst) -> Worst;
check_eq_pairs([A, B | T], Worst) ->
    Rc = check_eq(A, B),
    check_eq_pairs(T, max(Worst, Rc)).

check_eq(A, B) ->
    case {decode_file(A, [pretty, compact]), decode_file(B, [pretty, compact])} of
        {{ok, MA, _}, {ok, MB, _}} ->
            NA = normalise(MA),
            NB = normalise(MB),
            case NA =:= NB of
                true ->
                    io:format("SAME ~s ~s ~s~n", [A, B, summary(MA)]),
                    0;
                false ->
                    {Path, XA, XB} = first_diff(NA, NB, []),
                    io:format("DIFF ~s ~s at ~s: ~s <> ~s~n",
                              [A, B, Path, oneline(XA), oneline(XB)]),
                    1
            end;
        {{error, R}, _} -> io:format("ERROR ~s: ~s~n", [A, oneline(R)]), 2;
        {_, {error, R}} -> io:format("ERROR ~s: ~s~n", [B, oneline(R)]), 2
    end.

%% normalise/1: equivalences that do not change the meaning of a message.
%% - SDP lines (PropertyParm values inside Local/Remote) lose trailing
%%   spaces/CR (RFC 4566 lines end at CRLF or LF);
%% - an empty terminationAudit / auditResult list equals an absent one;
%% - empty ContextRequest equals an absent one.
%% Token case is already folded by OTP's scanner (both sides go through it).
normalise({'LocalRemoteDescriptor', Grps}) ->
    {'LocalRemoteDescriptor',
     [[setelement(3, P, [string:trim(V, trailing, " \r\t") || V <- element(3, P)])
       || P <- G] || G <- Grps]};
normalise({'AmmsReply', T, []}) -> {'AmmsReply', normalise(T), asn1_NOVALUE};
normalise(T) when is_tuple(T) ->
    list_to_tuple([normalise(E) || E <- tuple_to_list(T)]);
normalise(L) when is_list(L) -> [normalise(E) || E <- L];
normalise(X) -> X.

hash(T) -> integer_to_list(erlang:phash2(T, 1 bsl 32), 16).

first_diff(A, A, _) -> {"(none)", A, A};
first_diff(A, B, Path) when is_tuple(A), is_tuple(B),
                            tuple_size(A) =:= tuple_size(B) ->
    Name = case element(1, A) of
               X when is_atom(X) -> atom_to_list(X);
               _ -> "{}"
           end,
    diff_elems(tuple_to_list(A), tuple_to_list(B), 1, [Name | Path], A, B);
first_diff(A, B, Path) when is_list(A), is_list(B), length(A) =:= length(B),
                            not (is_integer(hd(A))) ->
    diff_elems(A, B, 1, ["[]" | Path], A, B);
first_diff(A, B, Path) ->
    {lists:join("/", lists:reverse(Path)), A, B}.

diff_elems([X | Xs], [X | Ys], I, Path, A, B) -> diff_elems(Xs, Ys, I + 1, Path, A, B);
diff_elems([X | _], [Y | _], I, [H | T], _, _) ->
    first_diff(X, Y, [H ++ "." ++ integer_to_list(I) | T]);
diff_elems([], [], _, Path, A, B) ->
    {lists:join("/", lists:reverse(Path)), A, B}.

oneline(T) ->
    S = lists:flatten(io_lib:format("~0p", [T])),
    case length(S) > 400 of
        true -> lists:sublist(S, 400) ++ "...";
        false -> S
    end.

%% ---- one-line summary of a decoded message ------------------------------
summary({'MegacoMessage', _Auth, Mess}) ->
    {'Message', V, Mid, Body} = Mess,
    lists:flatten(io_lib:format("v~p mid=~s ~s", [V, mid_str(Mid), body_str(Body)])).

mid_str({ip4Address, {'IP4Address', A, P}}) ->
    ["[", lists:join(".", [integer_to_list(X) || X <- A]), "]", port_str(P)];
mid_str({ip6Address, {'IP6Address', A, P}}) ->
    Words = list_to_tuple(words(A)),
    ["[", inet:ntoa(Words), "]", port_str(P)];
mid_str({domainName, {'DomainName', N, P}}) -> ["<", N, ">", port_str(P)];
mid_str({deviceName, N}) -> N;
mid_str(Other) -> oneline(Other).
words([H, L | T]) -> [H * 256 + L | words(T)];
words([]) -> [].
port_str(asn1_NOVALUE) -> "";
port_str(P) -> [":", integer_to_list(P)].

body_str({messageError, ED}) -> ["ER=", ed_str(ED)];
body_str({transactions, Ts}) -> lists:join(" ", [trans_str(T) || T <- Ts]).

ed_str(ED) -> integer_to_list(element(2, ED)).

trans_str({transactionRequest, TR}) ->
    ["T=", integer_to_list(element(2, TR)), "{",
     lists:join(",", [action_str(A) || A <- element(3, TR)]), "}"];
trans_str({transactionPending, TP}) -> ["PN=", integer_to_list(element(2, TP))];
trans_str({transactionResponseAck, Acks}) ->
    ["K{", lists:join(",", [case element(3, A) of
                                 asn1_NOVALUE -> integer_to_list(element(2, A));
                                 L -> [integer_to_list(element(2, A)), "-",
                                       integer_to_list(L)]
                             end || A <- Acks]), "}"];
trans_str({transactionReply, TR}) ->
    IA = case element(3, TR) of 'NULL' -> "IA,"; _ -> "" end,
    Res = case element(4, TR) of
              {transactionError, ED} -> ["ER=", ed_str(ED)];
              {actionReplies, Reps} -> lists:join(",", [reply_str(R) || R <- Reps])
          end,
    ["P=", integer_to_list(element(2, TR)), "{", IA, Res, "}"];
trans_str({segmentReply, SR}) -> ["SM=", integer_to_list(element(2, SR))];
trans_str(Other) -> oneline(Other).

ctx_str(?CHOOSE_CTX) -> "$";
ctx_str(?ALL_CTX) -> "*";
ctx_str(?NULL_CTX) -> "-";
ctx_str(N) -> integer_to_list(N).

action_str(AR) ->
    Cid = element(2, AR),
    Cmds = lists:last(tuple_to_list(AR)),
    Attrs = case element(3, AR) of asn1_NOVALUE -> ""; _ -> "CTX," end,
    ["C=", ctx_str(Cid), "{", Attrs,
     lists:join(",", [cmd_str(element(2, C)) || C <- Cmds]), "}"].

reply_str(AR) ->
    Cid = element(2, AR),
    Err = case element(3, AR) of
              asn1_NOVALUE -> [];
              ED -> [["ER=", ed_str(ED)]]
          end,
    Cmds = [cmd_str(C) || C <- element(5, AR)],
    ["C=", ctx_str(Cid), "{", lists:join(",", Cmds ++ Err), "}"].

cmd_str({Tag, Body}) ->
    Tids = case element(2, Body) of
               L when is_list(L) -> L;
               T -> [T]
           end,
    [cmd_name(Tag), "=", lists:join(",", [tid_str(T) || T <- Tids])].

cmd_name(addReq) -> "A"; cmd_name(addReply) -> "A";
cmd_name(modReq) -> "MF"; cmd_name(modReply) -> "MF";
cmd_name(moveReq) -> "MV"; cmd_name(moveReply) -> "MV";
cmd_name(subtractReq) -> "S"; cmd_name(subtractReply) -> "S";
cmd_name(auditValueRequest) -> "AV"; cmd_name(auditValueReply) -> "AV";
cmd_name(auditCapRequest) -> "AC"; cmd_name(auditCapReply) -> "AC";
cmd_name(notifyReq) -> "N"; cmd_name(notifyReply) -> "N";
cmd_name(serviceChangeReq) -> "SC"; cmd_name(serviceChangeReply) -> "SC";
cmd_name(X) -> atom_to_list(X).

tid_str({megaco_term_id, _, Levels}) -> lists:join("/", Levels);
tid_str({auditResult, {'AuditResult', T, _}}) -> tid_str(T);
tid_str({auditResultTermList, R}) ->
    lists:join(",", [tid_str(T) || T <- element(2, R)]);
tid_str({_, _} = X) -> oneline(X);
tid_str(X) -> oneline(X).

%% ===================================================================
%% roundtrip
%% ===================================================================

fixture_files(Dir) ->
    lists:sort(filelib:wildcard(filename:join(Dir, "*.pretty")) ++
                   filelib:wildcard(filename:join(Dir, "*.compact"))).

roundtrip(Dir) ->
    Files = fixture_files(Dir),
    Res = [roundtrip_file(F) || F <- Files],
    Same = length([x || identical <- Res]),
    Eq = length([x || same_meaning <- Res]),
    Bad = length(Res) - Same - Eq,
    io:format("roundtrip: ~p files, ~p byte-identical, ~p same meaning, ~p failed~n",
              [length(Res), Same, Eq, Bad]),
    case Bad of 0 -> 0; _ -> 1 end.

roundtrip_file(F) ->
    Enc = case filename:extension(F) of
              ".compact" -> compact;
              _ -> pretty
          end,
    {ok, Bin} = file:read_file(F),
    case decode(Enc, Bin) of
        {ok, M} ->
            V = element(2, element(3, M)),
            case encode(Enc, V, M) of
                {ok, Bin} -> io:format("RT OK ~s (identical)~n", [F]), identical;
                {ok, Bin2} ->
                    case decode(Enc, Bin2) of
                        {ok, M} -> io:format("RT OK ~s (same meaning, bytes differ)~n",
                                             [F]),
                                   same_meaning;
                        Other -> io:format("RT FAIL ~s re-decode: ~s~n",
                                           [F, oneline(Other)]),
                                 failed
                    end;
                Err -> io:format("RT FAIL ~s encode: ~s~n", [F, oneline(Err)]), failed
            end;
        {error, R} ->
            io:format("RT FAIL ~s decode: ~s~n", [F, oneline(short_reason(R))]),
            failed
    end.

%% ===================================================================
%% bench
%% ===================================================================

bench(Path, Iter) when Iter > 0 ->
    {Pretty, Compact} = bench_messages(Path),
    io:format("otp release=~s megaco=~s schedulers=~p iterations=~p~n",
              [erlang:system_info(otp_release), megaco_vsn(),
               erlang:system_info(schedulers_online), Iter]),
    io:format("otp messages pretty=~p compact=~p pretty_avg_bytes=~p "
              "compact_avg_bytes=~p~n",
              [length(Pretty), length(Compact), avg_size(Pretty), avg_size(Compact)]),
    bench_codec("pretty", pretty, [], Pretty, Iter),
    bench_codec("compact", compact, [], Compact, Iter),
    case catch megaco_flex_scanner:start() of
        {ok, Port} ->
            bench_codec("pretty-flex", pretty, [{flex, Port}], Pretty, Iter),
            bench_codec("compact-flex", compact, [{flex, Port}], Compact, Iter);
        _ -> ok
    end,
    halt(0);
bench(_, _) -> usage().

megaco_vsn() ->
    _ = application:load(megaco),
    case application:get_key(megaco, vsn) of
        {ok, V} -> V;
        _ -> "?"
    end.

avg_size([]) -> 0;
avg_size(L) -> lists:sum([byte_size(B) || B <- L]) div length(L).

%% a directory of fixtures, or a time_test.msgs-style file ({pretty, [{Id, Bin}]})
bench_messages(Path) ->
    case filelib:is_dir(Path) of
        true ->
            P = [B || F <- filelib:wildcard(filename:join(Path, "*.pretty")),
                      {ok, B} <- [file:read_file(F)]],
            C = [B || F <- filelib:wildcard(filename:join(Path, "*.compact")),
                      {ok, B} <- [file:read_file(F)]],
            {P, C};
        false ->
            {ok, Terms} = file:consult(Path),
            P = [B || {_, B} <- proplists:get_value(pretty, Terms, [])],
            C = [iolist_to_binary(CB)
                 || B <- P,
                    {ok, M} <- [decode(pretty, B)],
                    {ok, CB} <- [encode(compact, element(2, element(3, M)), M)]],
            {P, C}
    end.

bench_codec(Label, Enc, Cfg, Bins, Iter) ->
    Mod = enc_mod(Enc),
    Good = [{B, M, element(2, element(3, M))}
            || B <- Bins, {ok, M} <- [catch Mod:decode_message(Cfg, dynamic, B)]],
    case Good of
        [] -> io:format("otp ~s messages=0~n", [Label]);
        _ ->
            DecUs = time_per_msg(fun({B, _, _}) ->
                                         {ok, _} = Mod:decode_message(Cfg, dynamic, B)
                                 end, Good, Iter),
            EncUs = time_per_msg(fun({_, M, V}) ->
                                         {ok, _} = Mod:encode_message(Cfg, V, M)
                                 end, Good, Iter),
            io:format("otp ~s decode_us=~.2f~n", [Label, DecUs]),
            io:format("otp ~s encode_us=~.2f~n", [Label, EncUs])
    end.

time_per_msg(Fun, Items, Iter) ->
    %% one warm-up pass, then Iter timed passes over the whole set
    lists:foreach(Fun, Items),
    T0 = erlang:monotonic_time(nanosecond),
    loop(Fun, Items, Iter),
    T1 = erlang:monotonic_time(nanosecond),
    (T1 - T0) / 1000 / (Iter * length(Items)).

loop(_Fun, _Items, 0) -> ok;
loop(Fun, Items, N) -> lists:foreach(Fun, Items), loop(Fun, Items, N - 1).
