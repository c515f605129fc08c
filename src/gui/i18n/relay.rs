//! A relay tab: its pairs table, the send box's side, the view's way filter and the status bar's counts each way.
labels! {
    RelayLabels {
        pairs: "连接对", "Pairs";
        open_pairs: "个打开", "open";
        client: "客户端", "Client";
        via: "上游连接本端", "Upstream leg";
        tip_via: "中继连向上游的这一端的地址：它在接收区和发送中代表这一对的上游一侧", "The relay's end of the connection to the upstream: it names this pair's upstream side";
        state: "状态", "State";
        to_upstream: "C → U", "C → U";
        to_client: "U → C", "U → C";
        tip_to_upstream: "客户端发往上游的字节", "Bytes from the client to the upstream";
        tip_to_client: "上游发往客户端的字节", "Bytes from the upstream to the client";
        tip_state: "已关闭的连接对显示关闭原因（悬停看全文）", "An ended pair says why it ended (hover for the whole text)";
        connecting: "正在连接上游", "connecting";
        open: "已连通", "open";
        closed: "正常关闭", "closed";
        reset: "被重置", "reset";
        kicked: "被断开", "kicked";
        error: "出错", "error";
        idle: "空闲超时", "idle, forgotten";
        kick: "断开", "Kick";
        tip_kick: "关闭这一对：客户端和它的上游连接", "Close this pair: the client and its connection to the upstream";
        save_script: "存为脚本", "Save as script";
        tip_save_script: "把这一对的对话存为脚本：客户端发的成为发送，服务器的回答成为期待，可对服务器重放", "Save this pair's conversation as a script: what the client sent becomes sends, what the server answered becomes expects, to replay against the server";
        all_pairs: "所有连接对", "All pairs";
        side: "发往", "Side";
        client_side: "客户端一侧", "Client side";
        upstream_side: "上游一侧", "Upstream side";
        tip_side: "发给所选连接对的客户端，或代客户端发给上游", "Send to the chosen pair's client, or to its upstream as if the client had sent it";
        way: "方向", "Way";
        both_ways: "双向", "Both ways";
        tip_way_filter: "只显示一个方向的数据", "Show only the bytes that went one way";
        direction: "方向", "Direction";
        action: "动作", "Action";
        tip_direction: "规则查看哪个方向的消息", "Which way's messages the rule looks at";
        tip_action: "匹配后做什么：回复发送方、改写后转发、丢弃或延迟转发", "What it does with a message it matches: answer the sender, forward a rewrite, drop it, or forward it later";
        both: "双向", "both";
        reply: "回复", "reply";
        rewrite: "改写", "rewrite";
        drop: "丢弃", "drop";
        delay: "延迟", "delay";
    }
}
