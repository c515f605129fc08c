//! The auto-reply rules table.
labels! {
    RulesLabels {
        enabled: "启用", "On";
        matches: "匹配", "Match";
        contains: "包含文本", "Contains";
        hex_prefix: "HEX 前缀", "Hex prefix";
        regex: "正则", "Regex";
        pattern: "匹配内容", "Pattern";
        reply: "回复", "Reply";
        delay_ms: "延时 (ms)", "Delay (ms)";
        hits: "命中", "Hits";
        /// Before a rule's number in a message.
        rule: "规则", "rule";
        add_rule: "添加规则", "Add rule";
        apply: "应用", "Apply";
        in_force: "已生效", "In force";
        not_applied: "有改动，尚未应用", "Changed, not applied yet";
        used_at_open: "打开时生效", "Used at Open";
        tip_apply: "把这些规则交给正在运行的会话", "Hand these rules to the running session";
    }
}
