//! The send settings in the left column and the send box.
labels! {
    SendLabels {
        send_settings: "发送设置", "Send settings";
        hex_send: "HEX发送", "Hex send";
        escapes: "转义符 \\r\\n\\xHH", "Escapes \\r\\n\\xHH";
        vars: "变量 {seq}", "Variables {seq}";
        append: "自动追加", "Append";
        periodic: "定时发送", "Periodic send";
        interval_ms: "周期 (ms)", "Interval (ms)";
        count: "次数", "Count";
        sent_count: "已发送", "Sent";
        send_file: "发送文件…", "Send file…";
        send: "发送", "Send";
        send_box: "发送内容", "Send box";
        clear_send: "清除发送", "Clear box";
        send_disabled_closed: "未打开：请先点击“打开”", "Not open: press Open first";
        send_disabled_invalid: "发送内容有误，见下方提示", "The send box has an error (shown below it)";
        tip_hex_send:
            "以十六进制输入要发送的字节，如 01 03 0A；勾选或取消时发送框内容会自动转换",
            "Type the bytes to send as hex, e.g. 01 03 0A; ticking or unticking converts the send box";
        tip_escapes: "发送文本中的 \\r \\n \\t \\0 \\\\ \\xHH 按转义符解释", "Interpret \\r \\n \\t \\0 \\\\ \\xHH in the text";
        tip_vars:
            "每次发送时填入变量：{seq}（本会话的发送序号，从 0 起）{count} {peer} {time} {time_us} {rand:N}；{{ 为大括号本身",
            "Fill in variables on each send: {seq} (this session's sends, from 0), {count}, {peer}, {time}, {time_us}, \
             {rand:N}; {{ is a brace";
        tip_append: "每次发送后追加的行结束符（在校验之后）", "A line ending added after each send (after the checksum)";
        tip_checksum: "在数据后追加的校验", "A checksum appended to each send";
        tip_periodic: "勾选后按周期重复发送发送框的内容", "While ticked, the send box is sent again and again at the interval";
        tip_interval: "两次发送之间的间隔，1–86400000 毫秒", "Time between sends, 1–86,400,000 ms";
        tip_count: "总共发送的次数；0 = 一直发送直到取消勾选", "How many sends in all; 0 = until unticked";
        tip_send_file: "把文件的字节原样发送出去", "Send a file's bytes as they are";
        tip_send: "发送（Ctrl+Enter）", "Send (Ctrl+Enter)";
        tip_clear_send: "清空发送框", "Empty the send box";
    }
}
