#!/usr/bin/env escript
%% -*- erlang -*-
%%! -noinput
%%
%% megaco_mg.escript - the project's H.248 (Megaco) Media Gateway test peer: a
%% stand-in for an IMS Access Gateway (IMS-AGW) on the Iq interface, built on
%% Erlang/OTP megaco (an H.248 stack we did not write), for testing the
%% pcscf-alg MGC client (H248Client) on loopback.
%%
%% Needs only Debian's erlang-base (escript) and erlang-megaco. No header
%% files (erlang-dev) are needed: the few records used are declared below.
%% Origin: /work/shared/peers/megaco_mg.escript (research peer), extended.
%%
%% What it does:
%%   * starts the OTP megaco stack as an MG user with a text encoder
%%     (pretty or compact) over megaco_udp or megaco_tcp (TPKT framing),
%%   * connects to the MGC and sends ServiceChange (Restart, "901 Cold Boot"),
%%     retrying until the MGC answers,
%%   * answers Add / Modify / Subtract / Move / AuditValue / AuditCapability /
%%     ServiceChange requests:
%%       - Context "$" gets a fresh context id, TerminationID "$" gets a fresh
%%         ephemeral termination (<prefix>/<n>),
%%       - in every Local descriptor "$" placeholders are resolved: the
%%         address in "c=" (and "o=") lines becomes --media-ip, the port in
%%         "m=" lines gets the next even port from --port-base,
%%         "a=fingerprint:$" gets a fixed sha-256 fingerprint; everything else
%%         (TCP/TLS/MSRP, TCP/TLS/BFCP, a= lines) is echoed back as sent,
%%       - the reply carries the resolved Local descriptor per stream,
%%       - Modify ROOT (e.g. Events it/ito) is accepted,
%%       - AuditValue in Context "*" on "*" lists every live context with its
%%         terminations (one action reply per context), or answers Error 431
%%         when there is none: the end-of-test "no context left behind" check,
%%   * error injection: every Nth Add (--fail-add-every N) or an Add whose
%%     Local/Remote SDP holds the line "a=x-mg-fail:<code>" is answered with
%%     Error <code> (default --fail-add-code 430) and creates nothing,
%%   * Notify: when an Add/Modify carries an Events descriptor (not on ROOT)
%%     and --notify-after MS is given, the MG sends, MS ms later, a Notify for
%%     that termination with ObservedEvents = <the request id> { <timestamp>:
%%     <first requested event, or --notify-event NAME> },
%%   * TLS establishment failure: with --notify-tls-failure-after-modify MS,
%%     the first Modify of a termination whose Add asked for the TLS failure
%%     event (--tls-failure-event, default tlsbsc/estfail) is followed, MS ms
%%     later, by a Notify of that event with the Add's RequestID (once per
%%     termination): the IMS-AGW reporting a failed TLS handshake (seed 000)
%%       MG NOTIFY sent ctx=1 term=ip/1 event=tlsbsc/estfail rid=1
%%   * a leftover context: --orphan-notify-after MS creates, MS ms after the
%%     registration, a context the MGC never asked for (one termination
%%     "<prefix>/orphan") and sends a heartbeat Notify (hangterm/thb) for it;
%%     the MGC is expected to answer with an error and Subtract it
%%       MG ORPHAN ctx=7 term=ip/orphan
%%   * restart: --restart-after S sends a new ServiceChange Restart
%%     (--restart-reason, default "901 Cold Boot") S seconds after the first
%%     registration, after dropping all contexts (a gateway that lost state),
%%   * --pending-add answers each Add first with Pending and then, after
%%     --pending-ms, with the reply (handle_trans_long_request);
%%     --imm-ack asks for TransactionResponseAck (ImmAckRequired) in every
%%     reply and logs the ack ("MG ACK ..."),
%%   * prints one line per event on stdout ("MG ...") so a test can grep it:
%%       MG ADD ctx=1 term=ip/1 stream=1 local=[c=IN IP4 127.0.0.1|m=audio 40000 RTP/AVP 0]
%%       MG MODIFY ctx=1 term=ip/2 stream=1 local=[...] signals=tlsbsc/establish
%%       MG ADD ctx=$ term=$ error=430
%%       MG MODIFY ctx=1 term=ip/1 ...     MG MOVE ctx=2 term=ip/1 ...
%%       MG SUBTRACT ctx=1 term=ip/1       MG AUDIT ctx=- term=root
%%       MG AUDITCAP ctx=- term=root       MG SERVICECHANGE from MGC term=root
%%       MG NOTIFY sent ctx=1 term=ip/1 event=hangterm/thb rid=1
%%       MG NOTIFY reply ok ctx=1 term=ip/1
%%       MG RESTART dropped contexts=1 terminations=2
%%       MG RESTART registered version=3 ...
%%       MG STATE contexts=0 terminations=0        (on stop)
%%       MG LIVE contexts=1 terminations=2         (after each transaction request)
%%   * stops by itself after --duration seconds (default 60).
%%
%% Usage:
%%   escript Tests/Peers/megaco_mg.escript [--mgc 127.0.0.1:2944]
%%       [--transport udp|tcp] [--encoding pretty|compact] [--version 1|2|3]
%%       [--local-port 2945] [--mid 127.0.0.1:2945 | --mid-name agw1]
%%       [--media-ip 127.0.0.1] [--port-base 40000] [--term-prefix ip]
%%       [--profile NAME/VER] [--duration 60] [--trace]
%%       [--fail-add-every N] [--fail-add-code 430]
%%       [--notify-after MS] [--notify-event PKG/ITEM]
%%       [--notify-tls-failure-after-modify MS] [--tls-failure-event PKG/ITEM]
%%       [--orphan-notify-after MS]
%%       [--restart-after S] [--restart-reason "901 Cold Boot"]
%%       [--pending-add] [--pending-ms 500] [--imm-ack] [--request-timer 1000]
%%
-module(megaco_mg).
-mode(compile).

-export([main/1]).
%% megaco_user callbacks (user_args = [])
-export([handle_connect/2, handle_connect/3, handle_disconnect/3,
         handle_syntax_error/3, handle_message_error/3,
         handle_trans_request/3, handle_trans_long_request/3,
         handle_trans_reply/4, handle_trans_ack/4,
         handle_unexpected_trans/3, handle_trans_request_abort/4,
         handle_segment_reply/5]).

%% --- the record layouts used by OTP megaco (v1..v3 identical for these) ---
-record(megaco_term_id, {contains_wildcards = false, id}).
-record('IP4Address', {address, portNumber = asn1_NOVALUE}).
-record('ActionRequest', {contextId, contextRequest = asn1_NOVALUE,
                          contextAttrAuditReq = asn1_NOVALUE,
                          commandRequests = []}).
-record('ActionReply', {contextId, errorDescriptor = asn1_NOVALUE,
                        contextReply = asn1_NOVALUE, commandReply = []}).
-record('CommandRequest', {command, optional = asn1_NOVALUE,
                           wildcardReturn = asn1_NOVALUE}).
-record('AmmRequest', {terminationID = [], descriptors = []}).
-record('AmmsReply', {terminationID = [], terminationAudit = asn1_NOVALUE}).
-record('SubtractRequest', {terminationID = [], auditDescriptor = asn1_NOVALUE}).
-record('MediaDescriptor', {termStateDescr = asn1_NOVALUE,
                            streams = asn1_NOVALUE}).
-record('StreamDescriptor', {streamID, streamParms}).
-record('LocalRemoteDescriptor', {propGrps = []}).
-record('PropertyParm', {name, value, extraInfo = asn1_NOVALUE}).
-record('ErrorDescriptor', {errorCode, errorText = asn1_NOVALUE}).
-record('AuditResult', {terminationID, terminationAuditResult = []}).
-record('EventsDescriptor', {requestID, eventList = []}).
-record('RequestedEvent', {pkgdName, streamID = asn1_NOVALUE,
                           eventAction = asn1_NOVALUE, evParList = []}).
-record('NotifyRequest', {terminationID = [], observedEventsDescriptor,
                          errorDescriptor = asn1_NOVALUE}).
-record('NotifyReply', {terminationID = [], errorDescriptor = asn1_NOVALUE}).
-record('ObservedEventsDescriptor', {requestId, observedEventLst = []}).
-record('ObservedEvent', {eventName, streamID = asn1_NOVALUE,
                          eventParList = [], timeNotation = asn1_NOVALUE}).
-record('TimeNotation', {date, time}).
-record('ServiceChangeRequest', {terminationID = [], serviceChangeParms}).
-record('ServiceChangeReply', {terminationID = [], serviceChangeResult = []}).
-record('ServiceChangeParm', {serviceChangeMethod,
                              serviceChangeAddress = asn1_NOVALUE,
                              serviceChangeVersion = asn1_NOVALUE,
                              serviceChangeProfile = asn1_NOVALUE,
                              serviceChangeReason,
                              serviceChangeDelay = asn1_NOVALUE,
                              serviceChangeMgcId = asn1_NOVALUE,
                              timeStamp = asn1_NOVALUE,
                              nonStandardData = asn1_NOVALUE}).
-record('ServiceChangeResParm', {serviceChangeMgcId = asn1_NOVALUE,
                                 serviceChangeAddress = asn1_NOVALUE,
                                 serviceChangeVersion = asn1_NOVALUE,
                                 serviceChangeProfile = asn1_NOVALUE,
                                 timeStamp = asn1_NOVALUE}).
-record('ServiceChangeProfile', {profileName, version}).

-define(CHOOSE_CTX, 16#FFFFFFFE).
-define(ALL_CTX,    16#FFFFFFFF).
-define(NULL_CTX,   0).
-define(TAB, megaco_mg_state).
%% what "a=fingerprint:$" resolves to (a fixed, well-formed sha-256 value)
-define(FINGERPRINT,
        "sha-256 AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:"
        "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89").

%% ------------------------------------------------------------------------
main(Args) ->
    Opts = parse(Args, #{mgc => "127.0.0.1:2944", transport => udp,
                         encoding => pretty, version => 3,
                         local_port => 2945, media_ip => "127.0.0.1",
                         port_base => 40000, term_prefix => "ip",
                         duration => 60, trace => false,
                         profile => undefined, mid => undefined,
                         mid_name => undefined,
                         fail_add_every => 0, fail_add_code => 430,
                         notify_after => -1, notify_event => undefined,
                         notify_tls_after_modify => -1,
                         tls_failure_event => "tlsbsc/estfail",
                         orphan_notify_after => -1,
                         restart_after => -1,
                         restart_reason => "901 Cold Boot",
                         pending_add => false, pending_ms => 500,
                         imm_ack => false, request_timer => 1000}),
    {MgcHost, MgcPort} = host_port(maps:get(mgc, Opts)),
    ets:new(?TAB, [named_table, public, set]),
    ets:insert(?TAB, [{ctx_seq, 0}, {term_seq, 0}, {add_seq, 0},
                      {port_seq, maps:get(port_base, Opts) - 2},
                      {media_ip, maps:get(media_ip, Opts)},
                      {term_prefix, maps:get(term_prefix, Opts)},
                      {opts, Opts}]),
    ok = megaco:start(),
    case maps:get(trace, Opts) of
        true -> megaco:enable_trace(max, io);
        false -> ok
    end,
    Mid = local_mid(Opts),
    EncMod = case maps:get(encoding, Opts) of
                 compact -> megaco_compact_text_encoder;
                 _ -> megaco_pretty_text_encoder
             end,
    SendMod = case maps:get(transport, Opts) of
                  tcp -> megaco_tcp;
                  _ -> megaco_udp
              end,
    UserCfg = [{user_mod, ?MODULE}, {user_args, []},
               {encoding_mod, EncMod}, {encoding_config, []},
               {send_mod, SendMod},
               {protocol_version, maps:get(version, Opts)},
               %% MG-originated requests (ServiceChange, Notify) over UDP:
               %% first retransmission after --request-timer ms, doubling,
               %% 6 retries (OTP's default waits 7 s first)
               {request_timer, {megaco_incr_timer,
                                maps:get(request_timer, Opts), 2, 0, 6}}],
    ok = megaco:start_user(Mid, UserCfg),
    RH = megaco:user_info(Mid, receive_handle),
    log("start mid=~p transport=~p encoding=~p version=~p mgc=~s:~p",
        [Mid, SendMod, EncMod, maps:get(version, Opts), inet:ntoa(MgcHost),
         MgcPort]),
    Deadline = erlang:monotonic_time(millisecond)
        + maps:get(duration, Opts) * 1000,
    CH = connect(SendMod, RH, MgcHost, MgcPort, Opts, Deadline),
    Main = self(),
    spawn_link(fun() ->
                       register_mg(CH, Opts, Deadline, "901 Cold Boot",
                                   "registered", true),
                       ets:insert(?TAB, {registered, true})
               end),
    case maps:get(orphan_notify_after, Opts) of
        O when O >= 0 ->
            spawn_link(fun() -> wait_registered(),
                                timer:sleep(O),
                                orphan_notify() end);
        _ -> ok
    end,
    case maps:get(restart_after, Opts) of
        R when R >= 0 ->
            spawn_link(fun() -> wait_registered(),
                                timer:sleep(R * 1000),
                                restart(Opts, Deadline),
                                Main ! restarted end);
        _ -> ok
    end,
    wait_until(Deadline),
    {Ctxs, Terms} = state_counts(),
    log("STATE contexts=~p terminations=~p", [Ctxs, Terms]),
    log("stop (duration elapsed)", []),
    catch megaco:stop_user(Mid),
    halt(0).

local_mid(#{mid_name := Name}) when Name =/= undefined ->
    {deviceName, Name};
local_mid(#{mid := undefined, local_port := P}) ->
    {ip4Address, #'IP4Address'{address = [127, 0, 0, 1], portNumber = P}};
local_mid(#{mid := HP}) ->
    {{A, B, C, D}, P} = host_port(HP),
    {ip4Address, #'IP4Address'{address = [A, B, C, D], portNumber = P}}.

connect(megaco_udp, RH, Host, Port, Opts, _Deadline) ->
    {ok, Sup} = megaco_udp:start_transport(),
    {ok, Handle, Ctrl} =
        megaco_udp:open(Sup, [{port, maps:get(local_port, Opts)},
                              {udp_options, [{ip, {127, 0, 0, 1}}, {recbuf, 1048576}]},
                              {receive_handle, RH}]),
    SH = megaco_udp:create_send_handle(Handle, Host, Port),
    {ok, CH} = megaco:connect(RH, preliminary_mid, SH, Ctrl),
    CH;
connect(megaco_tcp, RH, Host, Port, Opts, Deadline) ->
    {ok, Sup} = megaco_tcp:start_transport(),
    tcp_connect(Sup, RH, Host, Port, Opts, Deadline).

tcp_connect(Sup, RH, Host, Port, Opts, Deadline) ->
    case megaco_tcp:connect(Sup, [{host, Host}, {port, Port},
                                  {receive_handle, RH}]) of
        {ok, SH, Ctrl} ->
            {ok, CH} = megaco:connect(RH, preliminary_mid, SH, Ctrl),
            CH;
        {error, Reason} ->
            log("tcp connect failed: ~p (retrying)", [Reason]),
            check_deadline(Deadline),
            timer:sleep(1000),
            tcp_connect(Sup, RH, Host, Port, Opts, Deadline)
    end.

register_mg(CH, Opts, Deadline, Reason, What, MayBeImplicit) ->
    Profile = case maps:get(profile, Opts) of
                  undefined -> asn1_NOVALUE;
                  PV ->
                      [N, V] = string:split(PV, "/"),
                      #'ServiceChangeProfile'{profileName = N,
                                              version = list_to_integer(V)}
              end,
    SCP = #'ServiceChangeParm'{serviceChangeMethod = restart,
                               serviceChangeReason = [Reason],
                               serviceChangeVersion = maps:get(version, Opts),
                               serviceChangeProfile = Profile},
    SCR = #'ServiceChangeRequest'{
             terminationID = [#megaco_term_id{id = ["root"]}],
             serviceChangeParms = pad(SCP, maps:get(version, Opts))},
    AR = #'ActionRequest'{contextId = ?NULL_CTX,
                          commandRequests = [#'CommandRequest'{
                                                command = {serviceChangeReq,
                                                           SCR}}]},
    case catch megaco:call(CH, [AR], []) of
        {Vsn, [{ok, Replies}]} ->
            log("~s version=~p reply=~w", [What, Vsn, Replies]);
        {Vsn, {ok, Replies}} ->
            log("~s version=~p reply=~w", [What, Vsn, Replies]);
        Other ->
            case MayBeImplicit andalso ets:lookup(?TAB, mgc_seen) =/= [] of
                true ->
                    %% over UDP the reply can be lost while the MGC already
                    %% sends requests; OTP then drops the preliminary
                    %% connection the call was made on
                    log("~s implicitly (ServiceChange reply lost, the MGC "
                        "already sends requests): ~P", [What, Other, 6]);
                false ->
                    log("ServiceChange not answered: ~P (retrying)", [Other, 8]),
                    check_deadline(Deadline),
                    timer:sleep(1000),
                    [{conn, CH2}] = ets:lookup(?TAB, conn),
                    register_mg(CH2, Opts, Deadline, Reason, What, MayBeImplicit)
            end
    end.

wait_registered() ->
    case ets:lookup(?TAB, registered) of
        [] -> timer:sleep(100), wait_registered();
        _ -> ok
    end.

%% a gateway restart: state is lost, then a new ServiceChange Restart
restart(Opts, Deadline) ->
    {Ctxs, Terms} = state_counts(),
    ets:match_delete(?TAB, {{term, '_', '_'}, '_', '_'}),
    log("RESTART dropped contexts=~p terminations=~p", [Ctxs, Terms]),
    [{conn, CH}] = ets:lookup(?TAB, conn),
    register_mg(CH, Opts, Deadline, maps:get(restart_reason, Opts),
                "RESTART registered", false).

state_counts() ->
    Cids = [C || [C] <- ets:match(?TAB, {{term, '$1', '_'}, '_', '_'})],
    {length(lists:usort(Cids)), length(Cids)}.

check_deadline(Deadline) ->
    case erlang:monotonic_time(millisecond) >= Deadline of
        true -> log("stop (duration elapsed before MGC answered)", []),
                halt(2);
        false -> ok
    end.

wait_until(Deadline) ->
    Left = Deadline - erlang:monotonic_time(millisecond),
    if Left =< 0 -> ok;
       true -> receive stop -> ok;
                       restarted -> wait_until(Deadline)
               after Left -> ok end
    end.

opt(K) -> [{opts, O}] = ets:lookup(?TAB, opts), maps:get(K, O).

%% ------------------------------------------------------------------------
%% megaco_user callbacks
%% megaco replaces the preliminary handle once the MGC's mId is known: keep
%% the newest one for MG-originated requests (Notify, restart ServiceChange)
handle_connect(CH, V) ->
    log("connect ~p v~p", [CH, V]),
    catch ets:insert(?TAB, {conn, CH}),
    ok.
handle_connect(CH, V, _Extra) -> handle_connect(CH, V).
handle_disconnect(CH, _V, Reason) ->
    log("disconnect ~p ~p", [CH, Reason]),
    megaco:cancel(CH, disconnected), ok.
handle_syntax_error(_RH, _V, ED) -> log("syntax_error ~p", [ED]), reply.
handle_message_error(_CH, _V, ED) -> log("message_error ~p", [ED]), no_reply.
handle_trans_reply(_CH, _V, {ok, Replies}, {notify, Cid, Tid}) ->
    Err = [E || #'ActionReply'{errorDescriptor = E} <- Replies,
                E =/= asn1_NOVALUE]
        ++ [E || #'ActionReply'{commandReply = Cs} <- Replies,
                 {notifyReply, #'NotifyReply'{errorDescriptor = E}} <- Cs,
                 E =/= asn1_NOVALUE],
    case Err of
        [] -> log("NOTIFY reply ok ctx=~p term=~s", [Cid, tid_str(Tid)]);
        [#'ErrorDescriptor'{errorCode = C} | _] ->
            log("NOTIFY reply error=~p ctx=~p term=~s", [C, Cid, tid_str(Tid)])
    end,
    ok;
handle_trans_reply(_CH, _V, Reply, {notify, Cid, Tid}) ->
    log("NOTIFY reply failed ctx=~p term=~s ~P", [Cid, tid_str(Tid), Reply, 10]),
    ok;
handle_trans_reply(_CH, _V, Reply, _Data) ->
    log("trans_reply ~p", [Reply]), ok.
handle_trans_ack(_CH, _V, Status, Data) ->
    log("ACK status=~p ~p", [Status, Data]), ok.
handle_unexpected_trans(_CH, _V, T) -> log("unexpected_trans ~p", [T]), ok.
handle_trans_request_abort(_CH, _V, TransNo, _Pid) ->
    log("trans_request_abort ~p", [TransNo]), ok.
handle_segment_reply(_CH, _V, TransNo, SegNo, _Compl) ->
    log("segment_reply ~p ~p", [TransNo, SegNo]), ok.

handle_trans_request(CH, V, ActionRequests) ->
    HasAdd = lists:any(fun(#'ActionRequest'{commandRequests = Cs}) ->
                               lists:any(fun(#'CommandRequest'{command = {addReq, _}}) -> true;
                                            (_) -> false
                                         end, Cs)
                       end, ActionRequests),
    case HasAdd andalso opt(pending_add) of
        true ->
            log("PENDING for ~p action(s)", [length(ActionRequests)]),
            {pending, ActionRequests};
        false ->
            execute(CH, V, ActionRequests)
    end.

handle_trans_long_request(CH, V, ActionRequests) ->
    timer:sleep(opt(pending_ms)),
    execute(CH, V, ActionRequests).

execute(CH, V, ActionRequests) ->
    ets:insert(?TAB, {mgc_seen, true}),
    put(vsn, V),
    put(conn, CH),
    Replies = lists:flatmap(fun action/1, ActionRequests),
    {Ctxs, Terms} = state_counts(),
    log("LIVE contexts=~p terminations=~p", [Ctxs, Terms]),
    case opt(imm_ack) of
        true -> {{handle_ack, {acts, length(Replies)}}, Replies};
        false -> {discard_ack, Replies}
    end.

%% ------------------------------------------------------------------------
action(#'ActionRequest'{contextId = ?ALL_CTX, commandRequests = Cmds}) ->
    %% Context * : only AuditValue (on * or ROOT) makes sense here
    case [C || #'CommandRequest'{command = C} <- Cmds] of
        [{auditValueRequest, _}] -> audit_all_contexts();
        _ -> [#'ActionReply'{contextId = ?ALL_CTX,
                             errorDescriptor = #'ErrorDescriptor'{
                                                  errorCode = 501,
                                                  errorText = "Not Implemented: "
                                                  "only AuditValue in Context *"}}]
    end;
action(#'ActionRequest'{contextId = Cid0, commandRequests = Cmds}) ->
    put(ctx0, Cid0),
    Cid = case Cid0 of
              ?CHOOSE_CTX -> ets:update_counter(?TAB, ctx_seq, 1);
              _ -> Cid0
          end,
    run_commands(Cid0, Cid, [C || #'CommandRequest'{command = C} <- Cmds], []).

%% H.248.1 7.1: commands run in order; at the first failure the reply holds
%% the replies of the commands done so far plus the Error descriptor
run_commands(_Cid0, Cid, [], Done) ->
    [#'ActionReply'{contextId = Cid, commandReply = lists:append(lists:reverse(Done))}];
run_commands(Cid0, Cid, [C | Cs], Done) ->
    try command(Cid, C) of
        R -> run_commands(Cid0, Cid, Cs, [R | Done])
    catch
        throw:{h248_error, Code, Text} ->
            log("ERROR ctx=~s code=~p ~s", [ctx_str(Cid), Code, Text]),
            %% nothing was created in a chosen context: answer for "$"
            RCid = case {Cid0, Done} of {?CHOOSE_CTX, []} -> Cid0; _ -> Cid end,
            [#'ActionReply'{contextId = RCid,
                            commandReply = lists:append(lists:reverse(Done)),
                            errorDescriptor = #'ErrorDescriptor'{
                                                 errorCode = Code,
                                                 errorText = Text}}]
    end.

audit_all_contexts() ->
    Rows = ets:match(?TAB, {{term, '$1', '_'}, '$2', '_'}),
    Cids = lists:usort([C || [C, _] <- Rows]),
    log("AUDIT ctx=* term=* contexts=~p terminations=~p",
        [length(Cids), length(Rows)]),
    case Cids of
        [] ->
            [#'ActionReply'{contextId = ?ALL_CTX,
                            errorDescriptor = #'ErrorDescriptor'{
                                                 errorCode = 431,
                                                 errorText = "No TerminationID "
                                                 "matched a wildcard"}}];
        _ ->
            [#'ActionReply'{contextId = C,
                            commandReply =
                                [{auditValueReply,
                                  {auditResult,
                                   #'AuditResult'{terminationID = T,
                                                  terminationAuditResult = []}}}
                                 || [C2, T] <- Rows, C2 =:= C]}
             || C <- Cids]
    end.

command(Cid, {addReq, #'AmmRequest'{terminationID = [Tid0],
                                    descriptors = Ds}}) ->
    N = ets:update_counter(?TAB, add_seq, 1),
    Every = opt(fail_add_every),
    case {fail_marker(media(Ds)), Every > 0 andalso N rem Every =:= 0} of
        {false, false} -> ok;
        {Marker, Nth} ->
            Code = case Marker of
                       false -> opt(fail_add_code);
                       C -> C
                   end,
            log("ADD ctx=~s term=~s error=~p (~s)",
                [ctx_str(get(ctx0)), tid_str(Tid0), Code,
                 case Nth of true -> "fail-add-every"; false -> "a=x-mg-fail" end]),
            throw({h248_error, Code, error_text(Code)})
    end,
    Tid = choose_term(Tid0),
    Streams = resolve_streams(media(Ds), []),
    ets:insert(?TAB, {{term, Cid, tid_key(Tid)}, Tid, Streams}),
    log("ADD ctx=~p term=~s ~s~s", [Cid, tid_str(Tid), sdp_summary(Streams), signals_summary(Ds)]),
    remember_events(Cid, Tid, Ds),
    maybe_notify(Cid, Tid, Ds),
    [{addReply, amms_reply(Tid, Streams)}];
command(Cid, {modReq, #'AmmRequest'{terminationID = [Tid],
                                    descriptors = Ds}}) ->
    case is_root(Tid) of
        true ->
            log("MODIFY ctx=~s term=root ~s", [ctx_str(Cid), events_summary(Ds)]),
            [{modReply, #'AmmsReply'{terminationID = [Tid]}}];
        false ->
            Old = case ets:lookup(?TAB, {term, Cid, tid_key(Tid)}) of
                      [{_, _, S}] -> S;
                      [] -> throw({h248_error, 430, "Unknown TerminationID"})
                  end,
            Streams = resolve_streams(media(Ds), Old),
            ets:insert(?TAB, {{term, Cid, tid_key(Tid)}, Tid, Streams}),
            log("MODIFY ctx=~p term=~s ~s~s", [Cid, tid_str(Tid), sdp_summary(Streams), signals_summary(Ds)]),
            maybe_notify(Cid, Tid, Ds),
            maybe_tls_failure(Cid, Tid),
            [{modReply, amms_reply(Tid, Streams)}]
    end;
command(Cid, {moveReq, #'AmmRequest'{terminationID = [Tid],
                                     descriptors = Ds}}) ->
    Key = tid_key(Tid),
    case ets:match(?TAB, {{term, '$1', Key}, '_', '$2'}) of
        [[From, Old]] ->
            ets:delete(?TAB, {term, From, Key}),
            Streams = resolve_streams(media(Ds), Old),
            ets:insert(?TAB, {{term, Cid, Key}, Tid, Streams}),
            log("MOVE ctx=~p term=~s from=~p", [Cid, tid_str(Tid), From]),
            [{moveReply, amms_reply(Tid, Streams)}];
        _ -> throw({h248_error, 430, "Unknown TerminationID"})
    end;
command(Cid, {subtractReq, #'SubtractRequest'{terminationID = [Tid]}}) ->
    Terms = case Tid of
                #megaco_term_id{contains_wildcards = true} ->
                    ets:match(?TAB, {{term, Cid, '_'}, '$1', '_'});
                _ ->
                    case ets:lookup(?TAB, {term, Cid, tid_key(Tid)}) of
                        [{_, T, _}] -> [[T]];
                        [] -> throw({h248_error, 430,
                                     "Unknown TerminationID"})
                    end
            end,
    case Terms of
        [] -> throw({h248_error, 411, "Unknown ContextID"});
        _ -> ok
    end,
    lists:map(fun([T]) ->
                      ets:delete(?TAB, {term, Cid, tid_key(T)}),
                      log("SUBTRACT ctx=~p term=~s", [Cid, tid_str(T)]),
                      {subtractReply, #'AmmsReply'{terminationID = [T]}}
              end, Terms);
command(Cid, {auditValueRequest, AR}) ->
    Tid = element(2, AR),
    log("AUDIT ctx=~s term=~s", [ctx_str(Cid), tid_str(Tid)]),
    [{auditValueReply,
      {auditResult, #'AuditResult'{terminationID = Tid,
                                   terminationAuditResult = []}}}];
command(Cid, {auditCapRequest, AR}) ->
    Tid = element(2, AR),
    log("AUDITCAP ctx=~s term=~s", [ctx_str(Cid), tid_str(Tid)]),
    [{auditCapReply,
      {auditResult, #'AuditResult'{terminationID = Tid,
                                   terminationAuditResult = []}}}];
command(_Cid, {serviceChangeReq, #'ServiceChangeRequest'{terminationID = T}}) ->
    log("SERVICECHANGE from MGC term=~s",
        [lists:join(",", [tid_str(X) || X <- T])]),
    [{serviceChangeReply,
      #'ServiceChangeReply'{terminationID = T,
                            serviceChangeResult =
                                {serviceChangeResParms,
                                 #'ServiceChangeResParm'{}}}}];
command(_Cid, {Other, _}) ->
    throw({h248_error, 501, "Not Implemented: " ++ atom_to_list(Other)}).

error_text(430) -> "Unknown TerminationID";
error_text(510) -> "Insufficient resources";
error_text(449) -> "Unsupported or Unknown Parameter or Property Value";
error_text(C) -> "Injected error " ++ integer_to_list(C).

is_root(#megaco_term_id{id = ["root"]}) -> true;
is_root(_) -> false.

ctx_str(?CHOOSE_CTX) -> "$";
ctx_str(?ALL_CTX) -> "*";
ctx_str(?NULL_CTX) -> "-";
ctx_str(N) -> integer_to_list(N).

%% "a=x-mg-fail:<code>" in any Local/Remote SDP of the request -> Code
fail_marker(MediaStreams) ->
    Values = [V || {_, SP} <- MediaStreams, I <- [3, 4],
                   #'LocalRemoteDescriptor'{propGrps = PG} <- [element(I, SP)],
                   G <- PG, #'PropertyParm'{name = "a", value = [V]} <- G],
    case [string:trim(C) || "x-mg-fail:" ++ C <- Values] of
        [Code | _] ->
            case string:to_integer(Code) of
                {N, _} when is_integer(N) -> N;
                _ -> opt(fail_add_code)
            end;
        [] -> false
    end.

%% Notify: after --notify-after ms, for the first requested event
maybe_notify(Cid, Tid, Ds) ->
    After = opt(notify_after),
    case [E || {eventsDescriptor, E} <- Ds] of
        [#'EventsDescriptor'{requestID = Rid,
                             eventList = [#'RequestedEvent'{pkgdName = Ev0} | _]}]
          when After >= 0, is_integer(Rid) ->
            Ev = case opt(notify_event) of
                     undefined -> Ev0;
                     E -> E
                 end,
            CH = get(conn),
            spawn(fun() -> timer:sleep(After), send_notify(CH, Cid, Tid, Rid, Ev) end),
            ok;
        _ -> ok
    end.

%% the events (and RequestID) an Add asked for, per termination
remember_events(Cid, Tid, Ds) ->
    case [E || {eventsDescriptor, E} <- Ds] of
        [#'EventsDescriptor'{requestID = Rid, eventList = L}] when is_integer(Rid) ->
            ets:insert(?TAB, {{events, Cid, tid_key(Tid)}, Rid,
                              [N || #'RequestedEvent'{pkgdName = N} <- L]});
        _ -> ok
    end.

%% --notify-tls-failure-after-modify: the TLS failure event the Add asked
%% for, once per termination, MS ms after its first Modify
maybe_tls_failure(Cid, Tid) ->
    After = opt(notify_tls_after_modify),
    Ev = opt(tls_failure_event),
    Key = tid_key(Tid),
    case ets:lookup(?TAB, {events, Cid, Key}) of
        [{_, Rid, Names}] when After >= 0 ->
            case lists:member(Ev, Names)
                andalso ets:insert_new(?TAB, {{tls_notified, Cid, Key}, true}) of
                true ->
                    CH = get(conn),
                    spawn(fun() -> timer:sleep(After),
                                   send_notify(CH, Cid, Tid, Rid, Ev) end),
                    ok;
                false -> ok
            end;
        _ -> ok
    end.

%% --orphan-notify-after: a context the MGC does not know, then its heartbeat
orphan_notify() ->
    Cid = ets:update_counter(?TAB, ctx_seq, 1),
    [{_, Prefix}] = ets:lookup(?TAB, term_prefix),
    Tid = #megaco_term_id{contains_wildcards = false, id = [Prefix, "orphan"]},
    ets:insert(?TAB, {{term, Cid, tid_key(Tid)}, Tid, []}),
    log("ORPHAN ctx=~p term=~s", [Cid, tid_str(Tid)]),
    [{conn, CH}] = ets:lookup(?TAB, conn),
    send_notify(CH, Cid, Tid, 1, "hangterm/thb").

send_notify(CH, Cid, Tid, Rid, Ev) ->
    case ets:lookup(?TAB, {term, Cid, tid_key(Tid)}) of
        [] -> log("NOTIFY skipped ctx=~p term=~s (gone)", [Cid, tid_str(Tid)]);
        _ ->
            OE = #'ObservedEvent'{eventName = Ev, timeNotation = now_tn()},
            NR = #'NotifyRequest'{terminationID = [Tid],
                                  observedEventsDescriptor =
                                      #'ObservedEventsDescriptor'{
                                         requestId = Rid,
                                         observedEventLst = [OE]}},
            AR = #'ActionRequest'{contextId = Cid,
                                  commandRequests = [#'CommandRequest'{
                                                        command = {notifyReq, NR}}]},
            log("NOTIFY sent ctx=~p term=~s event=~s rid=~p",
                [Cid, tid_str(Tid), Ev, Rid]),
            case megaco:cast(CH, [AR], [{reply_data, {notify, Cid, Tid}}]) of
                ok -> ok;
                Err -> log("NOTIFY cast failed ~p", [Err])
            end
    end.

now_tn() ->
    {{Y, Mo, D}, {H, Mi, S}} = calendar:universal_time(),
    #'TimeNotation'{date = lists:flatten(io_lib:format("~4..0w~2..0w~2..0w", [Y, Mo, D])),
                    time = lists:flatten(io_lib:format("~2..0w~2..0w~2..0w00", [H, Mi, S]))}.

%% " signals=tlsbsc/establish" when the command carries a Signals descriptor
%% (the MGC makes the IMS-AGW the TLS client, seed 003); "" otherwise
signals_summary(Ds) ->
    [io_lib:format(" signals=~s", [lists:join(",", Names)])
     || {signalsDescriptor, L} <- Ds, is_list(L),
        Names <- [[element(2, S) || {signal, S} <- L]], Names =/= []].

events_summary(Ds) ->
    [io_lib:format("events=~s ", [lists:join(",", [N || #'RequestedEvent'{pkgdName = N} <- L])])
     || {eventsDescriptor, #'EventsDescriptor'{eventList = L}} <- Ds].

%% a termination id "$" (choose) gets an ephemeral name <prefix>/<n>
choose_term(#megaco_term_id{id = Levels} = T) ->
    case lists:member("$", Levels) of
        true ->
            N = ets:update_counter(?TAB, term_seq, 1),
            [{_, Prefix}] = ets:lookup(?TAB, term_prefix),
            #megaco_term_id{contains_wildcards = false,
                            id = [Prefix, integer_to_list(N)]};
        false -> T
    end.

tid_key(#megaco_term_id{id = Id}) -> Id.
tid_str(#megaco_term_id{id = Id}) -> lists:join("/", Id);
tid_str(Other) -> io_lib:format("~p", [Other]).

media(Ds) ->
    case [MD || {mediaDescriptor, MD} <- Ds] of
        [#'MediaDescriptor'{streams = {oneStream, SP}}] -> [{1, SP}];
        [#'MediaDescriptor'{streams = {multiStream, SDs}}] ->
            [{Id, SP} || #'StreamDescriptor'{streamID = Id,
                                             streamParms = SP} <- SDs];
        _ -> []
    end.

%% Streams is [{StreamId, LocalPropGrps, RemotePropGrps}]
resolve_streams([], Old) -> Old;
resolve_streams(New, Old) ->
    Ids = lists:usort([I || {I, _, _} <- Old] ++ [I || {I, _} <- New]),
    [merge_stream(I, lists:keyfind(I, 1, New), lists:keyfind(I, 1, Old))
     || I <- Ids].

merge_stream(I, false, OldS) -> setelement(1, OldS, I);
merge_stream(I, {I, SP}, OldS) ->
    %% StreamParms: {'StreamParms', LocalControl, Local, Remote [, Stats]}
    {OldL, OldR} = case OldS of
                       false -> {[], []};
                       {_, L0, R0} -> {L0, R0}
                   end,
    L = case element(3, SP) of
            #'LocalRemoteDescriptor'{propGrps = PG} -> resolve_pg(PG);
            _ -> OldL
        end,
    R = case element(4, SP) of
            #'LocalRemoteDescriptor'{propGrps = PG2} -> PG2;
            _ -> OldR
        end,
    {I, L, R}.

%% the MG picks one alternative (the first group) and resolves its "$"
resolve_pg([]) -> [];
resolve_pg([Grp | _]) ->
    [{_, Ip}] = ets:lookup(?TAB, media_ip),
    [[resolve_prop(P, Ip) || P <- Grp]].

resolve_prop(#'PropertyParm'{name = "c", value = [V]} = P, Ip) ->
    P#'PropertyParm'{value = [replace_dollar(V, Ip)]};
resolve_prop(#'PropertyParm'{name = "o", value = [V]} = P, Ip) ->
    P#'PropertyParm'{value = [replace_dollar(V, Ip)]};
resolve_prop(#'PropertyParm'{name = "a", value = ["fingerprint:$"]} = P, _Ip) ->
    P#'PropertyParm'{value = ["fingerprint:" ++ ?FINGERPRINT]};
resolve_prop(#'PropertyParm'{name = "m", value = [V]} = P, _Ip) ->
    case string:split(V, " ", all) of
        [Media, "$" | Rest] ->
            Port = ets:update_counter(?TAB, port_seq, 2),
            P#'PropertyParm'{value = [lists:join(" ", [Media,
                                                      integer_to_list(Port)
                                                      | Rest])]};
        _ -> P
    end;
resolve_prop(P, _Ip) -> P.

replace_dollar(V, Ip) ->
    lists:flatten(lists:join(" ", [case W of "$" -> Ip; _ -> W end
                                   || W <- string:split(V, " ", all)])).

amms_reply(Tid, Streams) ->
    SDs = [#'StreamDescriptor'{
              streamID = I,
              streamParms = stream_parms(#'LocalRemoteDescriptor'{
                                            propGrps = L})}
           || {I, L, _R} <- Streams, L =/= []],
    Audit = case SDs of
                [] -> [];
                _ -> [{mediaDescriptor,
                       #'MediaDescriptor'{streams = {multiStream, SDs}}}]
            end,
    #'AmmsReply'{terminationID = [Tid], terminationAudit = Audit}.

%% Record layouts that differ between H.248 versions in OTP megaco:
%% StreamParms gains statisticsDescriptor in v3, ServiceChangeParm gains
%% serviceChangeInfo in v2 and serviceChangeIncompleteFlag in v3.
stream_parms(Local) ->
    case get(vsn) of
        V when is_integer(V), V >= 3 ->
            {'StreamParms', asn1_NOVALUE, Local, asn1_NOVALUE, asn1_NOVALUE};
        _ ->
            {'StreamParms', asn1_NOVALUE, Local, asn1_NOVALUE}
    end.

pad(#'ServiceChangeParm'{} = SCP, V) when V >= 3 ->
    list_to_tuple(tuple_to_list(SCP) ++ [asn1_NOVALUE, asn1_NOVALUE]);
pad(#'ServiceChangeParm'{} = SCP, 2) ->
    list_to_tuple(tuple_to_list(SCP) ++ [asn1_NOVALUE]);
pad(SCP, _) -> SCP.

sdp_summary(Streams) ->
    lists:join(" ",
      [io_lib:format("stream=~p local=[~s]",
                     [I, lists:join("|", [N ++ "=" ++ lists:flatten(V)
                                          || G <- L,
                                             #'PropertyParm'{name = N,
                                                             value = [V]} <- G,
                                             N =:= "c" orelse N =:= "m"])])
       || {I, L, _} <- Streams]).

%% ------------------------------------------------------------------------
parse([], M) -> M;
parse(["--mgc", V | T], M) -> parse(T, M#{mgc => V});
parse(["--transport", V | T], M) -> parse(T, M#{transport => list_to_atom(V)});
parse(["--encoding", V | T], M) -> parse(T, M#{encoding => list_to_atom(V)});
parse(["--version", V | T], M) -> parse(T, M#{version => list_to_integer(V)});
parse(["--local-port", V | T], M) ->
    parse(T, M#{local_port => list_to_integer(V)});
parse(["--mid", V | T], M) -> parse(T, M#{mid => V});
parse(["--mid-name", V | T], M) -> parse(T, M#{mid_name => V});
parse(["--media-ip", V | T], M) -> parse(T, M#{media_ip => V});
parse(["--port-base", V | T], M) ->
    parse(T, M#{port_base => list_to_integer(V)});
parse(["--term-prefix", V | T], M) -> parse(T, M#{term_prefix => V});
parse(["--profile", V | T], M) -> parse(T, M#{profile => V});
parse(["--duration", V | T], M) -> parse(T, M#{duration => list_to_integer(V)});
parse(["--fail-add-every", V | T], M) ->
    parse(T, M#{fail_add_every => list_to_integer(V)});
parse(["--fail-add-code", V | T], M) ->
    parse(T, M#{fail_add_code => list_to_integer(V)});
parse(["--notify-after", V | T], M) ->
    parse(T, M#{notify_after => list_to_integer(V)});
parse(["--notify-event", V | T], M) -> parse(T, M#{notify_event => V});
parse(["--notify-tls-failure-after-modify", V | T], M) ->
    parse(T, M#{notify_tls_after_modify => list_to_integer(V)});
parse(["--tls-failure-event", V | T], M) -> parse(T, M#{tls_failure_event => V});
parse(["--orphan-notify-after", V | T], M) ->
    parse(T, M#{orphan_notify_after => list_to_integer(V)});
parse(["--restart-after", V | T], M) ->
    parse(T, M#{restart_after => list_to_integer(V)});
parse(["--restart-reason", V | T], M) -> parse(T, M#{restart_reason => V});
parse(["--pending-add" | T], M) -> parse(T, M#{pending_add => true});
parse(["--pending-ms", V | T], M) ->
    parse(T, M#{pending_ms => list_to_integer(V)});
parse(["--imm-ack" | T], M) -> parse(T, M#{imm_ack => true});
parse(["--request-timer", V | T], M) ->
    parse(T, M#{request_timer => list_to_integer(V)});
parse(["--trace" | T], M) -> parse(T, M#{trace => true});
parse([Bad | _], _) ->
    io:format(standard_error, "unknown argument ~s~n", [Bad]), halt(64).

host_port(S) ->
    [H, P] = string:split(S, ":", trailing),
    {ok, Addr} = inet:parse_address(H),
    {Addr, list_to_integer(P)}.

log(Fmt, Args) ->
    io:format("MG " ++ Fmt ++ "~n", Args).
