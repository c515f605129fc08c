//! The send/expect script panel.
labels! {
    ScriptLabels {
        repeat: "重复次数", "Repeat";
        repeat_hint: "0 = 直到停止", "0 = until stopped";
        vars: "发送步骤变量 {seq}", "Variables in sends {seq}";
        tip_vars:
            "发送步骤中填入变量：{seq}（本次运行的发送序号，从 0 起，跨轮次累计）{count} {peer} {time} {time_us} {rand:N}；\
             {{ 为大括号本身",
            "Fill in variables in send steps: {seq} (this run's sends, from 0, across rounds), {count}, {peer}, {time}, \
             {time_us}, {rand:N}; {{ is a brace";
        step_send: "发送文本", "Send text";
        step_send_hex: "发送 HEX", "Send hex";
        step_expect: "等待文本", "Expect text";
        step_expect_hex: "等待 HEX", "Expect hex";
        step_expect_regex: "等待正则", "Expect regex";
        step_sleep: "延时 (ms)", "Sleep (ms)";
        action: "动作", "Action";
        value: "内容", "Value";
        timeout_ms: "超时 (ms)", "Timeout (ms)";
        result: "结果", "Result";
        time: "用时", "Time";
        add_step: "添加步骤", "Add step";
        run: "运行脚本", "Run script";
        stop_script: "停止脚本", "Stop script";
        passed: "通过", "passed";
        failed: "失败", "failed";
        running: "运行中", "running";
        stopped: "已停止", "stopped";
        waiting_for_client: "等待客户端连入", "waiting for a client";
        received_instead: "实际收到", "Received instead";
        latest_run: "最近一次", "Latest";
        run_of: "显示", "Show";
        round: "轮", "round";
        tip_run:
            "TCP 客户端和 UDP 运行一次；TCP 服务器对每个连入的客户端运行，直到停止。未打开时：在打开时随连接启动",
            "TCP client and UDP: once; TCP server: for each client that joins, until stopped. Before Open: starts \
             with the connection at Open";
        run_on_open: "打开时运行", "Run on open";
        tip_run_on_open:
            "每次打开会话时随连接一起启动脚本，对方一连上就发来的问候语也能等到",
            "Start the script with every Open, together with the connection, so a greeting sent at once is seen";
        armed: "将在打开时运行", "runs at Open";
        sees_everything:
            "随连接启动：等待步骤能看到连接后收到的全部数据",
            "Starts with the connection: expects see everything received from the first byte";
        sees_since_open:
            "会话已打开：第一个等待步骤也会看到打开以来已收到的数据（每个对端最近 64 KiB）",
            "Started after Open: the first expect also sees what arrived since Open (the newest 64 KiB per peer)";
    }
}
