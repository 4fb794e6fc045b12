#!/usr/bin/env escript
%% -*- erlang -*-
%%! -noinput +S 1 +sbwt none +sbwtdcpu none +sbwtdio none
%%
%% h248_codec_bench.escript - OTP megaco text codec timings, the reference column of
%% `pcscf-bench h248`. Adapted from ../shared/peers/h248_codec_bench.escript: instead of
%% erlang-examples' time_test.msgs it reads the OTP-generated Iq fixtures (a directory of
%% <case>.v<N>.pretty / .compact files), so the Swift bench and OTP time the very same bytes.
%% A consult file {pretty, [{Id, Bin}]} of the shared script's form is accepted too.
%%
%% Usage: escript h248_codec_bench.escript <DIR|MSGS_FILE> [CPU_SECONDS_PER_COLUMN]
%% Prints one line per codec, machine readable:
%%   otp <pretty|compact> msgs=<n> avg_bytes=<b> decode_us=<x> encode_us=<y>
-mode(compile).

main([Path]) -> main([Path, "2"]);
main([Path, SecsS | _]) ->
    Secs = list_to_integer(SecsS),
    {Pretty, Compact} = load(Path),
    io:format("otp release=~s megaco=~s schedulers=~p~n",
              [erlang:system_info(otp_release), megaco_vsn(), erlang:system_info(schedulers_online)]),
    run("pretty", megaco_pretty_text_encoder, Pretty, Secs),
    run("compact", megaco_compact_text_encoder, Compact, Secs),
    halt(0);
main(_) ->
    io:format(standard_error, "usage: h248_codec_bench.escript <DIR|MSGS_FILE> [SECONDS]~n", []),
    halt(64).

load(Path) ->
    case filelib:is_dir(Path) of
        true ->
            Files = lists:sort(filelib:wildcard(filename:join(Path, "*.v[0-9].*"))),
            P = [read(F) || F <- Files, filename:extension(F) =:= ".pretty"],
            C = [read(F) || F <- Files, filename:extension(F) =:= ".compact"],
            {P, C};
        false ->
            {ok, Terms} = file:consult(Path),
            P = [B || {_, B} <- proplists:get_value(pretty, Terms)],
            C = [C1 || B <- P, {ok, C1} <- [to_compact(B)]],
            {P, C}
    end.

read(F) -> {ok, B} = file:read_file(F), B.

to_compact(B) ->
    case catch megaco_pretty_text_encoder:decode_message([], dynamic, B) of
        {ok, M} -> megaco_compact_text_encoder:encode_message([], element(2, element(3, M)), M);
        _ -> error
    end.

megaco_vsn() ->
    _ = application:load(megaco),
    {ok, V} = application:get_key(megaco, vsn),
    V.

run(Name, Mod, Msgs, Secs) ->
    Good = lists:filtermap(
             fun(Bin) ->
                     case catch Mod:decode_message([], dynamic, Bin) of
                         {ok, M} -> {true, {Bin, M, element(2, element(3, M))}};
                         _ -> false
                     end
             end, Msgs),
    N = length(Good),
    Avg = lists:sum([byte_size(B) || {B, _, _} <- Good]) div max(N, 1),
    Dec = per_msg(fun({B, _, _}) -> {ok, _} = Mod:decode_message([], dynamic, B) end, Good, Secs),
    Enc = per_msg(fun({_, M, V}) -> {ok, _} = Mod:encode_message([], V, M) end, Good, Secs),
    io:format("otp ~s msgs=~w avg_bytes=~w decode_us=~.2f encode_us=~.2f~n", [Name, N, Avg, Dec, Enc]).

%% CPU microseconds per message: the VM runs one scheduler without busy-waiting (see the %%! line),
%% so erlang:statistics(runtime) is the CPU time of this work (GC included); the machine is shared,
%% and preemption by other processes must not count. The Swift side uses its thread CPU time.
per_msg(_Fun, [], _Secs) -> 0.0;
per_msg(Fun, Items, Secs) ->
    lists:foreach(Fun, Items),
    {T0, _} = erlang:statistics(runtime),
    {Count, Used} = loop(Fun, Items, T0, Secs * 1000, 0),
    Used * 1000 / Count.

loop(Fun, Items, T0, BudgetMs, Acc) ->
    lists:foreach(Fun, Items),
    Acc2 = Acc + length(Items),
    {T, _} = erlang:statistics(runtime),
    case T - T0 >= BudgetMs of
        true -> {Acc2, T - T0};
        false -> loop(Fun, Items, T0, BudgetMs, Acc2)
    end.
