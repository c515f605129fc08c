//! The automation section: framing, and the switches that show the rules and the script.
labels! {
    AutomationLabels {
        automation: "自动化", "Automation";
        framing: "分帧", "Framing";
        frame_none: "每次读取", "Each read";
        frame_line: "按行", "Line";
        frame_delimiter: "分隔符", "Delimiter";
        frame_length: "长度前缀", "Length prefix";
        frame_gap: "时间间隔", "Time gap";
        delimiter: "分隔符 HEX", "Delimiter hex";
        length_field: "长度字段", "Length field";
        counts_header: "长度含头部", "Length counts header";
        gap_ms: "间隔 (ms)", "Gap (ms)";
        rules: "自动回复", "Auto-reply";
        script: "脚本", "Script";
        tip_automation: "分帧、自动回复规则和收发脚本", "Framing, auto-reply rules and send/expect scripts";
        tip_framing:
            "把每个对端的数据流切成消息：规则和脚本按整条消息匹配，日志模式每条消息一行",
            "Cut each peer's stream into messages: rules and scripts match whole messages, log mode shows one \
            row per message";
        tip_rules: "显示或隐藏自动回复规则表", "Show or hide the auto-reply rules table";
        tip_script: "显示或隐藏收发脚本", "Show or hide the send/expect script";
    }
}
