#!/usr/bin/env escript
%% -*- erlang -*-
%%! -noinput
%%
%% megaco_mgc.escript - an independent H.248 MGC (Erlang/OTP megaco) for testing ims-agw, the
%% project's IMS-AGW (MG side of Iq). Adapted from megaco_mg.escript. Needs erlang-base and
%% erlang-megaco only.
%%
%% What it does:
%%   * listens on --port (UDP, megaco_udp; or TCP/TPKT with --transport tcp) as the MGC,
%%   * answers the MG's ServiceChange (Restart 901/902, Graceful...) with Version (and the MG's
%%     profile), logging "MGC SERVICECHANGE method=restart reason=901 Cold Boot version=3 ...",
%%   * after registration runs the steps of --steps FILE in order: each step is the text of the
%%     actions of one transaction (e.g. `Context = $ { Add = $ { ... } }`), steps separated by a
%%     line holding only `%%`. The text is decoded by OTP's own text decoder and sent with
%%     megaco:call/3 (OTP does the encoding, transaction ids and retransmissions); each reply is
%%     printed on one line as "MGC STEP <n> reply=<Erlang term>"; a step `sleep <ms>` waits,
%%   * answers Notify requests ("MGC NOTIFY term=ip/1 event=hangterm/thb rid=1"),
%%   * stops after --duration seconds, or --linger seconds after the last step.
%%
%% Usage:
%%   escript Tests/Peers/megaco_mgc.escript --port 2954 [--transport udp|tcp]
%%       [--encoding pretty|compact] [--version 3] --steps FILE [--linger 2] [--duration 30]
%%
-module(megaco_mgc).
-mode(compile).
-export([main/1]).
-export([handle_connect/2, handle_connect/3, handle_disconnect/3,
         handle_syntax_error/3, handle_message_error/3,
         handle_trans_request/3, handle_trans_long_request/3,
         handle_trans_reply/4, handle_trans_ack/4,
         handle_unexpected_trans/3, handle_trans_request_abort/4,
         handle_segment_reply/5]).

-record(megaco_term_id, {contains_wildcards = false, id}).
-record('IP4Address', {address, portNumber = asn1_NOVALUE}).
-record('ActionReply', {contextId, errorDescriptor = asn1_NOVALUE,
                        contextReply = asn1_NOVALUE, commandReply = []}).
-record('ServiceChangeReply', {terminationID = [], serviceChangeResult = []}).
-record('ServiceChangeResParm', {serviceChangeMgcId = asn1_NOVALUE,
                                 serviceChangeAddress = asn1_NOVALUE,
                                 serviceChangeVersion = asn1_NOVALUE,
                                 serviceChangeProfile = asn1_NOVALUE,
                                 timeStamp = asn1_NOVALUE}).
-record('NotifyReply', {terminationID = [], errorDescriptor = asn1_NOVALUE}).

-define(NULL_CTX, 0).
-define(TAB, megaco_mgc_state).

main(Args) ->
    Opts = parse(Args, #{port => 2954, transport => udp, encoding => pretty, version => 3,
                         steps => undefined, linger => 2, duration => 30}),
    ets:new(?TAB, [named_table, public, set]),
    ets:insert(?TAB, {opts, Opts}),
    ok = megaco:start(),
    Port = maps:get(port, Opts),
    Mid = {ip4Address, #'IP4Address'{address = [127, 0, 0, 1], portNumber = Port}},
    EncMod = case maps:get(encoding, Opts) of
                 compact -> megaco_compact_text_encoder;
                 _ -> megaco_pretty_text_encoder
             end,
    SendMod = case maps:get(transport, Opts) of tcp -> megaco_tcp; _ -> megaco_udp end,
    ok = megaco:start_user(Mid, [{user_mod, ?MODULE}, {user_args, []},
                                 {encoding_mod, EncMod}, {encoding_config, []},
                                 {send_mod, SendMod},
                                 {protocol_version, maps:get(version, Opts)},
                                 {request_timer, {megaco_incr_timer, 500, 2, 0, 6}}]),
    RH = megaco:user_info(Mid, receive_handle),
    listen(SendMod, RH, Port),
    log("listening port=~p transport=~p encoding=~p", [Port, SendMod, EncMod]),
    Steps = read_steps(maps:get(steps, Opts)),
    Main = self(),
    spawn_link(fun() -> run_steps(EncMod, Steps), Main ! steps_done end),
    Deadline = maps:get(duration, Opts) * 1000,
    receive
        steps_done -> timer:sleep(maps:get(linger, Opts) * 1000)
    after Deadline -> log("stop (duration elapsed)", [])
    end,
    log("stop", []),
    halt(0).

listen(megaco_udp, RH, Port) ->
    {ok, Sup} = megaco_udp:start_transport(),
    {ok, _Handle, _Ctrl} = megaco_udp:open(Sup, [{port, Port}, {receive_handle, RH},
                                                 {udp_options, [{ip, {127, 0, 0, 1}}]}]);
listen(megaco_tcp, RH, Port) ->
    {ok, Sup} = megaco_tcp:start_transport(),
    ok = megaco_tcp:listen(Sup, [{port, Port}, {receive_handle, RH}]).

read_steps(undefined) -> [];
read_steps(File) ->
    {ok, Bin} = file:read_file(File),
    Parts = string:split(binary_to_list(Bin), "\n%%\n", all),
    [S || S <- [string:trim(P) || P <- Parts], S =/= ""].

wait_conn() ->
    case ets:lookup(?TAB, registered) of
        [{registered, CH}] -> CH;
        _ -> timer:sleep(50), wait_conn()
    end.

run_steps(EncMod, Steps) ->
    %% the ServiceChange reply goes out after handle_trans_request returns: let it reach the MG
    %% before the first command (an MG answers 505 to a request that overtakes that reply)
    wait_conn(),
    timer:sleep(300),
    lists:foldl(fun(Text, N) ->
                        CH = wait_conn(),
                        step(EncMod, CH, N, Text),
                        N + 1
                end, 1, Steps).

%% The actions are decoded by OTP's text decoder from a whole message around them.
step(_EncMod, _CH, N, "sleep " ++ Ms) ->
    log("STEP ~p sleep ~s", [N, Ms]),
    timer:sleep(list_to_integer(string:trim(Ms)));
step(EncMod, CH, N, Text) ->
    Msg = "MEGACO/3 [127.0.0.1]:2954\nTransaction = 1 {\n" ++ Text ++ "\n}\n",
    case EncMod:decode_message([], dynamic, list_to_binary(Msg)) of
        {ok, M} ->
            {'MegacoMessage', _, {'Message', _, _, {transactions, [{transactionRequest, TR}]}}} = M,
            Actions = element(3, TR),
            Reply = (catch megaco:call(CH, Actions, [])),
            Flat = re:replace(io_lib:format("~p", [Reply]), "\\s*\\n\\s*", " ", [global, {return, list}]),
            log("STEP ~p reply=~s", [N, Flat]);
        Error ->
            log("STEP ~p undecodable ~p", [N, Error])
    end.

%% ------------------------------------------------------------------------
handle_connect(CH, V) -> log("connect v~p", [V]), ets:insert(?TAB, {conn, CH}), ok.
handle_connect(CH, V, _) -> handle_connect(CH, V).
handle_disconnect(_CH, _V, Reason) -> log("disconnect ~p", [Reason]), ok.
handle_syntax_error(_RH, _V, ED) -> log("syntax_error ~p", [ED]), reply.
handle_message_error(_CH, _V, ED) -> log("message_error ~p", [ED]), no_reply.
handle_trans_reply(_CH, _V, Reply, _Data) -> log("trans_reply ~p", [Reply]), ok.
handle_trans_ack(_CH, _V, _Status, _Data) -> ok.
handle_unexpected_trans(_CH, _V, T) -> log("unexpected_trans ~p", [T]), ok.
handle_trans_request_abort(_CH, _V, _TransNo, _Pid) -> ok.
handle_segment_reply(_CH, _V, _TransNo, _SegNo, _Compl) -> ok.
handle_trans_long_request(CH, V, AR) -> handle_trans_request(CH, V, AR).

handle_trans_request(CH, V, ActionRequests) ->
    {discard_ack, [action(CH, V, A) || A <- ActionRequests]}.

%% ActionRequest = {'ActionRequest', ContextId, ContextRequest, ContextAttrAuditReq, CommandRequests}
action(CH, V, A) ->
    Cid = element(2, A),
    Cmds = [element(2, C) || C <- element(5, A)],
    #'ActionReply'{contextId = Cid, commandReply = [command(CH, V, C) || C <- Cmds]}.

command(CH, V, {serviceChangeReq, SCR}) ->
    [Tid | _] = element(2, SCR),
    P = element(3, SCR),
    Method = element(2, P),
    Reason = element(6, P),
    Version = element(4, P),
    Profile = element(5, P),
    log("SERVICECHANGE method=~p reason=~s version=~p profile=~s", [Method, reason(Reason), Version, profile(Profile)]),
    Res = #'ServiceChangeResParm'{serviceChangeVersion = min_version(Version, V),
                                  serviceChangeProfile = Profile},
    case Method of
        restart -> ets:insert(?TAB, {registered, CH});
        _ -> ok
    end,
    {serviceChangeReply, #'ServiceChangeReply'{terminationID = [Tid],
                                               serviceChangeResult = {serviceChangeResParms, pad(Res, V)}}};
command(_CH, _V, {notifyReq, NR}) ->
    [Tid | _] = element(2, NR),
    OED = element(3, NR),
    Rid = element(2, OED),
    Events = [element(2, E) || E <- element(3, OED)],
    log("NOTIFY term=~s event=~s rid=~p", [tid_str(Tid), lists:join(",", Events), Rid]),
    {notifyReply, #'NotifyReply'{terminationID = [Tid]}};
command(_CH, _V, Other) ->
    log("unexpected command ~P", [Other, 6]),
    {notifyReply, #'NotifyReply'{}}.

min_version(asn1_NOVALUE, V) -> V;
min_version(A, V) -> min(A, V).

pad(#'ServiceChangeResParm'{} = R, _V) -> R.

profile({'ServiceChangeProfile', N, V}) -> io_lib:format("~s/~p", [N, V]);
profile(P) -> io_lib:format("~w", [P]).

reason([R | _]) when is_list(R) -> R;
reason(R) -> io_lib:format("~p", [R]).

tid_str(#megaco_term_id{id = Id}) -> lists:join("/", Id);
tid_str(T) -> io_lib:format("~p", [T]).

parse([], M) -> M;
parse(["--port", V | T], M) -> parse(T, M#{port => list_to_integer(V)});
parse(["--transport", V | T], M) -> parse(T, M#{transport => list_to_atom(V)});
parse(["--encoding", V | T], M) -> parse(T, M#{encoding => list_to_atom(V)});
parse(["--version", V | T], M) -> parse(T, M#{version => list_to_integer(V)});
parse(["--steps", V | T], M) -> parse(T, M#{steps => V});
parse(["--linger", V | T], M) -> parse(T, M#{linger => list_to_integer(V)});
parse(["--duration", V | T], M) -> parse(T, M#{duration => list_to_integer(V)});
parse([X | _], _) -> io:format("unknown option ~s~n", [X]), halt(2).

log(Fmt, Args) ->
    io:format("MGC " ++ Fmt ++ "~n", Args).
