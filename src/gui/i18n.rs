//! Labels in Chinese and English. One struct per language, so a missing label is a compile error.
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::automation::rules::RulesError;
use crate::automation::script::ScriptError;
use crate::codec::escape::EscapeError;
use crate::codec::framing::{FramingError, MAX_DELIMITER};
use crate::codec::hex::HexError;
use crate::codec::text::TextError;
use crate::export::search::FindError;
use crate::net::{NetError, Nobody, describe};
use crate::send::PayloadError;
use crate::session::spec::ModeKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    /// Chinese on a Chinese system (any `zh*` locale), English elsewhere.
    pub fn from_system() -> Lang {
        Lang::from_locale(sys_locale::get_locale().as_deref().unwrap_or("en"))
    }

    pub fn from_locale(locale: &str) -> Lang {
        if locale.to_ascii_lowercase().starts_with("zh") {
            Lang::Zh
        } else {
            Lang::En
        }
    }

    pub fn texts(self) -> &'static Texts {
        match self {
            Lang::Zh => &ZH,
            Lang::En => &EN,
        }
    }
}

pub struct Texts {
    pub title: &'static str,
    pub connection: &'static str,
    pub mode: &'static str,
    pub tcp_client: &'static str,
    pub tcp_server: &'static str,
    pub udp: &'static str,
    pub local_ip: &'static str,
    pub local_port: &'static str,
    pub remote_host: &'static str,
    pub remote_port: &'static str,
    pub follow_peer: &'static str,
    pub broadcast: &'static str,
    pub multicast: &'static str,
    pub reconnect: &'static str,
    pub open: &'static str,
    pub close: &'static str,
    pub connecting: &'static str,
    pub receive_settings: &'static str,
    pub hex_view: &'static str,
    pub encoding: &'static str,
    pub log_mode: &'static str,
    pub show_sent: &'static str,
    pub wrap: &'static str,
    pub pause: &'static str,
    pub receive_to_file: &'static str,
    pub stop_file: &'static str,
    pub capture_pcap: &'static str,
    pub stop_pcap: &'static str,
    pub clear: &'static str,
    pub save_view: &'static str,
    pub copy_all: &'static str,
    pub buffer_mib: &'static str,
    pub send_settings: &'static str,
    pub hex_send: &'static str,
    pub escapes: &'static str,
    pub append: &'static str,
    pub checksum: &'static str,
    pub none: &'static str,
    pub periodic: &'static str,
    pub interval_ms: &'static str,
    pub count: &'static str,
    pub count_hint: &'static str,
    pub stop: &'static str,
    pub send: &'static str,
    pub send_file: &'static str,
    pub send_box: &'static str,
    pub quick_commands: &'static str,
    pub add: &'static str,
    pub edit: &'static str,
    pub delete: &'static str,
    pub name: &'static str,
    pub done: &'static str,
    pub clients: &'static str,
    pub send_to: &'static str,
    pub all_clients: &'static str,
    pub kick: &'static str,
    pub since: &'static str,
    pub all_peers: &'static str,
    pub filter: &'static str,
    pub state_closed: &'static str,
    pub state_listening: &'static str,
    pub state_connected: &'static str,
    pub state_connecting: &'static str,
    pub state_bound: &'static str,
    pub rx: &'static str,
    pub tx: &'static str,
    pub dropped: &'static str,
    pub reset: &'static str,
    pub language: &'static str,
    pub sent_count: &'static str,
    pub bad_port: &'static str,
    pub bad_remote_port: &'static str,
    pub bad_ip: &'static str,
    pub bad_host: &'static str,
    pub bad_group: &'static str,
    pub bad_number: &'static str,
    pub receiving_to: &'static str,
    pub pcap_to: &'static str,
    pub reconnecting: &'static str,
    pub paused: &'static str,
    pub missed_ticks: &'static str,
    pub tip_missed_ticks: &'static str,
    pub kernel_dropped: &'static str,
    pub tip_kernel_dropped: &'static str,
    pub clear_send: &'static str,
    pub send_disabled_closed: &'static str,
    pub send_disabled_invalid: &'static str,
    pub file_dialog_busy: &'static str,
    pub path: &'static str,
    pub ok: &'static str,
    pub cancel: &'static str,
    pub dismiss: &'static str,
    pub export: &'static str,
    pub tip_export: &'static str,
    pub exporting: &'static str,
    pub new_tab: &'static str,
    pub tip_new_tab: &'static str,
    pub duplicate_tab: &'static str,
    pub tip_duplicate_tab: &'static str,
    pub split_tab: &'static str,
    pub tip_split_tab: &'static str,
    pub close_tab: &'static str,
    pub tip_close_tab: &'static str,
    pub rename_tab: &'static str,
    pub tab_name: &'static str,
    pub confirm_close_tab: &'static str,
    pub keep_tab: &'static str,
    pub address: &'static str,
    pub client_rx: &'static str,
    pub client_tx: &'static str,
    pub tip_mode: &'static str,
    pub tip_local_ip: &'static str,
    pub tip_local_port: &'static str,
    pub tip_local_port_client: &'static str,
    pub tip_remote_host: &'static str,
    pub tip_remote_port: &'static str,
    pub tip_follow_peer: &'static str,
    pub tip_broadcast: &'static str,
    pub tip_multicast: &'static str,
    pub tip_reconnect: &'static str,
    pub tip_open: &'static str,
    pub tip_close: &'static str,
    pub tip_hex_view: &'static str,
    pub tip_log_mode: &'static str,
    pub tip_show_sent: &'static str,
    pub tip_wrap: &'static str,
    pub tip_encoding: &'static str,
    pub tip_buffer: &'static str,
    pub tip_pause: &'static str,
    pub tip_receive_to_file: &'static str,
    pub tip_stop_file: &'static str,
    pub tip_capture_pcap: &'static str,
    pub tip_stop_pcap: &'static str,
    pub tip_clear: &'static str,
    pub tip_save_view: &'static str,
    pub tip_copy_all: &'static str,
    pub tip_hex_send: &'static str,
    pub tip_escapes: &'static str,
    pub tip_append: &'static str,
    pub tip_checksum: &'static str,
    pub tip_periodic: &'static str,
    pub tip_interval: &'static str,
    pub tip_count: &'static str,
    pub tip_send_file: &'static str,
    pub tip_send: &'static str,
    pub tip_clear_send: &'static str,
    pub tip_send_to: &'static str,
    pub tip_kick: &'static str,
    pub tip_filter: &'static str,
    pub tip_rx: &'static str,
    pub tip_tx: &'static str,
    pub tip_dropped: &'static str,
    pub tip_reset: &'static str,
    pub tip_quick_add: &'static str,
    pub tip_quick_edit: &'static str,
    pub tip_language: &'static str,
    pub find: &'static str,
    pub tip_find: &'static str,
    pub select_row: &'static str,
    pub tip_select_row: &'static str,
    pub rows_selected: &'static str,
    pub clear_selection: &'static str,
    pub save_selection: &'static str,
    pub copy_selection: &'static str,
    pub export_selection: &'static str,
    pub find_text: &'static str,
    pub find_hex: &'static str,
    pub find_regex: &'static str,
    pub find_next: &'static str,
    pub find_previous: &'static str,
    pub tip_find_field: &'static str,
    pub plot: &'static str,
    pub tip_plot: &'static str,
    pub plot_rx: &'static str,
    pub plot_tx: &'static str,
    pub plot_messages: &'static str,
    pub plot_seconds: &'static str,
    pub auto: &'static AutoTexts,
}

/// The automation area's labels: framing, the rules table, the script panel.
pub struct AutoTexts {
    pub automation: &'static str,
    pub tip_automation: &'static str,
    pub framing: &'static str,
    pub tip_framing: &'static str,
    pub frame_none: &'static str,
    pub frame_line: &'static str,
    pub frame_delimiter: &'static str,
    pub frame_length: &'static str,
    pub frame_gap: &'static str,
    pub delimiter: &'static str,
    pub length_field: &'static str,
    pub counts_header: &'static str,
    pub gap_ms: &'static str,
    pub rules: &'static str,
    pub tip_rules: &'static str,
    pub script: &'static str,
    pub tip_script: &'static str,
    pub enabled: &'static str,
    pub matches: &'static str,
    pub contains: &'static str,
    pub hex_prefix: &'static str,
    pub regex: &'static str,
    pub pattern: &'static str,
    pub reply: &'static str,
    pub text: &'static str,
    pub hex: &'static str,
    pub delay_ms: &'static str,
    pub hits: &'static str,
    /// Before a rule's number in a message.
    pub rule: &'static str,
    pub add_rule: &'static str,
    pub move_up: &'static str,
    pub move_down: &'static str,
    pub apply: &'static str,
    pub tip_apply: &'static str,
    pub in_force: &'static str,
    pub not_applied: &'static str,
    pub used_at_open: &'static str,
    pub import: &'static str,
    pub export: &'static str,
    pub repeat: &'static str,
    pub repeat_hint: &'static str,
    pub step_send: &'static str,
    pub step_send_hex: &'static str,
    pub step_expect: &'static str,
    pub step_expect_hex: &'static str,
    pub step_expect_regex: &'static str,
    pub step_sleep: &'static str,
    pub action: &'static str,
    pub value: &'static str,
    pub timeout_ms: &'static str,
    pub result: &'static str,
    pub time: &'static str,
    pub add_step: &'static str,
    pub run: &'static str,
    pub tip_run: &'static str,
    pub stop_script: &'static str,
    pub passed: &'static str,
    pub failed: &'static str,
    pub running: &'static str,
    pub stopped: &'static str,
    pub waiting_for_client: &'static str,
    pub received_instead: &'static str,
    pub latest_run: &'static str,
    pub run_of: &'static str,
    pub round: &'static str,
    pub open_first: &'static str,
}

impl Texts {
    pub fn mode_name(&self, mode: ModeKind) -> &'static str {
        match mode {
            ModeKind::TcpClient => self.tcp_client,
            ModeKind::TcpServer => self.tcp_server,
            ModeKind::Udp => self.udp,
        }
    }
}

pub static AUTO_ZH: AutoTexts = AutoTexts {
    automation: "自动化",
    tip_automation: "分帧、自动回复规则和收发脚本",
    framing: "分帧",
    tip_framing: "把每个对端的数据流切成消息：规则和脚本按整条消息匹配，日志模式每条消息一行",
    frame_none: "每次读取",
    frame_line: "按行",
    frame_delimiter: "分隔符",
    frame_length: "长度前缀",
    frame_gap: "时间间隔",
    delimiter: "分隔符 HEX",
    length_field: "长度字段",
    counts_header: "长度含头部",
    gap_ms: "间隔 (ms)",
    rules: "自动回复",
    tip_rules: "显示或隐藏自动回复规则表",
    script: "脚本",
    tip_script: "显示或隐藏收发脚本",
    enabled: "启用",
    matches: "匹配",
    contains: "包含文本",
    hex_prefix: "HEX 前缀",
    regex: "正则",
    pattern: "匹配内容",
    reply: "回复",
    text: "文本",
    hex: "HEX",
    delay_ms: "延时 (ms)",
    hits: "命中",
    rule: "规则",
    add_rule: "添加规则",
    move_up: "上移",
    move_down: "下移",
    apply: "应用",
    tip_apply: "把这些规则交给正在运行的会话",
    in_force: "已生效",
    not_applied: "有改动，尚未应用",
    used_at_open: "打开时生效",
    import: "导入 TOML…",
    export: "导出 TOML…",
    repeat: "重复次数",
    repeat_hint: "0 = 直到停止",
    step_send: "发送文本",
    step_send_hex: "发送 HEX",
    step_expect: "等待文本",
    step_expect_hex: "等待 HEX",
    step_expect_regex: "等待正则",
    step_sleep: "延时 (ms)",
    action: "动作",
    value: "内容",
    timeout_ms: "超时 (ms)",
    result: "结果",
    time: "用时",
    add_step: "添加步骤",
    run: "运行脚本",
    tip_run: "TCP 客户端和 UDP 运行一次；TCP 服务器对每个连入的客户端运行，直到停止",
    stop_script: "停止脚本",
    passed: "通过",
    failed: "失败",
    running: "运行中",
    stopped: "已停止",
    waiting_for_client: "等待客户端连入",
    received_instead: "实际收到",
    latest_run: "最近一次",
    run_of: "显示",
    round: "轮",
    open_first: "先打开会话",
};

pub static AUTO_EN: AutoTexts = AutoTexts {
    automation: "Automation",
    tip_automation: "Framing, auto-reply rules and send/expect scripts",
    framing: "Framing",
    tip_framing: "Cut each peer's stream into messages: rules and scripts match whole messages, log mode shows one \
                  row per message",
    frame_none: "Each read",
    frame_line: "Line",
    frame_delimiter: "Delimiter",
    frame_length: "Length prefix",
    frame_gap: "Time gap",
    delimiter: "Delimiter hex",
    length_field: "Length field",
    counts_header: "Length counts header",
    gap_ms: "Gap (ms)",
    rules: "Auto-reply",
    tip_rules: "Show or hide the auto-reply rules table",
    script: "Script",
    tip_script: "Show or hide the send/expect script",
    enabled: "On",
    matches: "Match",
    contains: "Contains",
    hex_prefix: "Hex prefix",
    regex: "Regex",
    pattern: "Pattern",
    reply: "Reply",
    text: "Text",
    hex: "Hex",
    delay_ms: "Delay (ms)",
    hits: "Hits",
    rule: "rule",
    add_rule: "Add rule",
    move_up: "Up",
    move_down: "Down",
    apply: "Apply",
    tip_apply: "Hand these rules to the running session",
    in_force: "In force",
    not_applied: "Changed, not applied yet",
    used_at_open: "Used at Open",
    import: "Import TOML…",
    export: "Export TOML…",
    repeat: "Repeat",
    repeat_hint: "0 = until stopped",
    step_send: "Send text",
    step_send_hex: "Send hex",
    step_expect: "Expect text",
    step_expect_hex: "Expect hex",
    step_expect_regex: "Expect regex",
    step_sleep: "Sleep (ms)",
    action: "Action",
    value: "Value",
    timeout_ms: "Timeout (ms)",
    result: "Result",
    time: "Time",
    add_step: "Add step",
    run: "Run script",
    tip_run: "TCP client and UDP: once; TCP server: for each client that joins, until stopped",
    stop_script: "Stop script",
    passed: "passed",
    failed: "failed",
    running: "running",
    stopped: "stopped",
    waiting_for_client: "waiting for a client",
    received_instead: "Received instead",
    latest_run: "Latest",
    run_of: "Show",
    round: "round",
    open_first: "Open the session first",
};

pub static ZH: Texts = Texts {
    title: "Wirepad 网络调试助手",
    connection: "通信设置",
    mode: "协议类型",
    tcp_client: "TCP 客户端",
    tcp_server: "TCP 服务器",
    udp: "UDP",
    local_ip: "本地主机地址",
    local_port: "本地主机端口",
    remote_host: "远程主机地址",
    remote_port: "远程主机端口",
    follow_peer: "目的地址随对方变化",
    broadcast: "允许广播",
    multicast: "加入组播",
    reconnect: "自动重连",
    open: "打开",
    close: "关闭",
    connecting: "连接中…",
    receive_settings: "接收设置",
    hex_view: "HEX显示",
    encoding: "文本编码",
    log_mode: "日志模式显示",
    show_sent: "显示发送",
    wrap: "自动换行",
    pause: "暂停接收显示",
    receive_to_file: "接收转向文件…",
    stop_file: "停止写文件",
    capture_pcap: "抓包到 pcap…",
    stop_pcap: "停止抓包",
    clear: "清除接收",
    save_view: "保存数据…",
    copy_all: "复制全部",
    buffer_mib: "接收缓冲 (MiB)",
    send_settings: "发送设置",
    hex_send: "HEX发送",
    escapes: "转义符 \\r\\n\\xHH",
    append: "自动追加",
    checksum: "附加校验",
    none: "无",
    periodic: "定时发送",
    interval_ms: "周期 (ms)",
    count: "次数",
    count_hint: "0 = 不限",
    stop: "停止",
    send: "发送",
    send_file: "发送文件…",
    send_box: "发送内容",
    quick_commands: "快捷指令",
    add: "添加",
    edit: "编辑",
    delete: "删除",
    name: "名称",
    done: "完成",
    clients: "客户端",
    send_to: "发送给",
    all_clients: "所有连接",
    kick: "断开",
    since: "连接时间",
    all_peers: "全部",
    filter: "筛选",
    state_closed: "未打开",
    state_listening: "正在监听",
    state_connected: "已连接",
    state_connecting: "正在连接",
    state_bound: "已绑定",
    rx: "接收",
    tx: "发送",
    dropped: "显示丢弃",
    reset: "复位计数",
    language: "语言",
    sent_count: "已发送",
    bad_port: "端口须为 0–65535 的整数",
    bad_remote_port: "远程端口须为 1–65535 的整数",
    bad_ip: "不是有效的 IP 地址",
    bad_host: "请输入主机名或 IP 地址",
    bad_group: "不是组播地址 (224.0.0.0/4 或 ff00::/8)",
    bad_number: "请输入整数",
    receiving_to: "正在写入",
    pcap_to: "正在抓包到",
    reconnecting: "将在 {} 后重连",
    paused: "已暂停显示 (计数和写文件照常)",
    clear_send: "清除发送",
    send_disabled_closed: "未打开：请先点击“打开”",
    send_disabled_invalid: "发送内容有误，见下方提示",
    file_dialog_busy: "已有一个文件对话框打开",
    path: "路径",
    ok: "确定",
    cancel: "取消",
    dismiss: "知道了",
    export: "导出…",
    tip_export: "把接收区保留的数据（按当前过滤；有选中的行时只导出选中的行）导出为 TXT、CSV、JSON 行或 pcapng（可用 Wireshark 打开）",
    exporting: "正在导出",
    new_tab: "新建标签",
    tip_new_tab: "新建一个会话标签（Ctrl+T）",
    duplicate_tab: "复制标签",
    tip_duplicate_tab: "以当前标签的设置新建一个标签",
    split_tab: "并排显示",
    tip_split_tab: "把当前标签移到右侧，与其他标签并排显示；拖动标签也可以",
    close_tab: "关闭标签",
    tip_close_tab: "关闭当前标签（Ctrl+W）",
    rename_tab: "重命名",
    tab_name: "标签名",
    confirm_close_tab: "该标签的会话仍在运行。关闭标签会断开它。",
    keep_tab: "保留",
    address: "地址",
    client_rx: "↓ 接收",
    client_tx: "↑ 发送",
    tip_mode: "TCP 服务器：在本地端口监听，等待客户端连接\nTCP 客户端：连接远程主机\nUDP：收发数据报",
    tip_local_ip: "本机要使用的地址。0.0.0.0 = 所有 IPv4 地址，:: = 所有 IPv6 地址；点 … 选择本机网卡地址",
    tip_local_port: "本地端口，0–65535。0 = 由系统分配。每种协议类型各自记住自己的端口",
    tip_local_port_client: "客户端的本地端口，0–65535。默认 0 = 由系统分配（与 NetAssist 相同）；只有设备要求固定源端口时才需要填写",
    tip_remote_host: "对方的 IP 地址或主机名；点 … 选择用过的地址",
    tip_remote_port: "对方的端口，1–65535",
    tip_follow_peer: "收到数据后，发送目标改为最后一个发来数据的地址",
    tip_broadcast: "允许发送到广播地址（如 255.255.255.255）",
    tip_multicast: "要加入的组播组，如 239.1.2.3 或 ff12::1%网卡序号；留空则不加入",
    tip_reconnect: "连接断开或失败后自动重连（间隔逐渐加长，最长 5 秒）",
    tip_open: "按上面的设置打开连接",
    tip_close: "关闭连接（计数保留，直到复位计数）",
    tip_hex_view: "以十六进制显示接收区（已收到的数据也重新显示）",
    tip_log_mode: "每块数据前显示时间和对方地址",
    tip_show_sent: "在接收区中也显示发送的数据（蓝色）",
    tip_wrap: "长行在窗口宽度处换行",
    tip_encoding: "接收和发送文本所用的编码（十六进制不受影响）",
    tip_buffer: "接收区最多保留的数据量，1–4096 MiB；超出时丢弃最早的数据并计入“显示丢弃”",
    tip_pause: "暂停显示新数据；计数、写文件和自动处理照常进行",
    tip_receive_to_file: "把收到的每个字节原样写入文件（不受显示缓冲限制）",
    tip_stop_file: "停止写入接收文件",
    tip_capture_pcap: "把收发的每个字节写成 pcapng（可用 Wireshark 打开），边收发边写，不受显示缓冲限制",
    tip_stop_pcap: "结束 pcap 文件（仍打开的 TCP 连接以 FIN 收尾）",
    tip_clear: "清空接收区（计数不变）。快捷键 Ctrl+L",
    tip_save_view: "把接收区的内容（有选中的行时只保存选中的行）按显示的样子保存为文本文件",
    tip_copy_all: "把接收区的全部内容（有选中的行时只复制选中的行）复制到剪贴板",
    tip_hex_send: "以十六进制输入要发送的字节，如 01 03 0A；勾选或取消时发送框内容会自动转换",
    tip_escapes: "发送文本中的 \\r \\n \\t \\0 \\\\ \\xHH 按转义符解释",
    tip_append: "每次发送后追加的行结束符（在校验之后）",
    tip_checksum: "在数据后追加的校验",
    tip_periodic: "勾选后按周期重复发送发送框的内容",
    tip_interval: "两次发送之间的间隔，1–86400000 毫秒",
    tip_count: "总共发送的次数；0 = 一直发送直到取消勾选",
    tip_send_file: "把文件的字节原样发送出去",
    tip_send: "发送（Ctrl+Enter）",
    tip_clear_send: "清空发送框",
    tip_send_to: "服务器模式下发送给所有客户端或其中一个",
    tip_kick: "断开这个客户端",
    tip_filter: "只显示这个对方的数据",
    tip_rx: "收到的字节总数（精确值，与显示无关）",
    tip_tx: "发送的字节总数",
    tip_dropped: "已收到并计数、但没有显示在接收区的字节：窗口来不及显示的，加上超出接收缓冲被移除的。写文件不受影响。只增不减，直到复位计数",
    tip_reset: "把接收、发送和显示丢弃计数清零",
    tip_quick_add: "添加一条快捷指令",
    tip_quick_edit: "编辑或删除这条快捷指令",
    tip_language: "界面语言",
    auto: &AUTO_ZH,
    find: "查找",
    select_row: "选择行",
    tip_select_row: "单击选中此行，Shift+单击选中一段；之后保存、复制和导出只处理选中的行。Esc 取消选择",
    rows_selected: "已选行数：",
    clear_selection: "取消选择",
    save_selection: "保存选中…",
    copy_selection: "复制选中",
    export_selection: "导出选中…",
    tip_find: "在接收区保留的全部数据中查找（Ctrl+F）：文本、十六进制字节或正则表达式",
    find_text: "文本",
    find_hex: "十六进制",
    find_regex: "正则",
    find_next: "下一个",
    find_previous: "上一个",
    tip_find_field: "回车：下一个；Shift+回车：上一个；Esc：关闭",
    plot: "流量图",
    tip_plot: "最近 5 分钟每秒的接收和发送字节数（引擎的精确计数）",
    plot_rx: "接收 字节/秒",
    plot_tx: "发送 字节/秒",
    plot_messages: "消息/秒",
    plot_seconds: "秒",
    missed_ticks: "定时跳过",
    tip_missed_ticks: "定时发送时来不及发出而跳过的次数（不会事后连发补上）",
    kernel_dropped: "系统丢包",
    tip_kernel_dropped: "接收缓冲满时操作系统丢弃的 UDP 数据报个数",
};

pub static EN: Texts = Texts {
    title: "Wirepad network debugging assistant",
    connection: "Connection",
    mode: "Mode",
    tcp_client: "TCP Client",
    tcp_server: "TCP Server",
    udp: "UDP",
    local_ip: "Local IP",
    local_port: "Local port",
    remote_host: "Remote host",
    remote_port: "Remote port",
    follow_peer: "Reply to last sender",
    broadcast: "Allow broadcast",
    multicast: "Multicast group",
    reconnect: "Auto-reconnect",
    open: "Open",
    close: "Close",
    connecting: "Connecting…",
    receive_settings: "Receive settings",
    hex_view: "Hex view",
    encoding: "Encoding",
    log_mode: "Log mode",
    show_sent: "Show sent",
    wrap: "Wrap",
    pause: "Pause view",
    receive_to_file: "Receive to file…",
    stop_file: "Stop file",
    capture_pcap: "Capture to pcap…",
    stop_pcap: "Stop pcap",
    clear: "Clear",
    save_view: "Save view…",
    copy_all: "Copy all",
    buffer_mib: "View buffer (MiB)",
    send_settings: "Send settings",
    hex_send: "Hex send",
    escapes: "Escapes \\r\\n\\xHH",
    append: "Append",
    checksum: "Checksum",
    none: "None",
    periodic: "Periodic send",
    interval_ms: "Interval (ms)",
    count: "Count",
    count_hint: "0 = forever",
    stop: "Stop",
    send: "Send",
    send_file: "Send file…",
    send_box: "Send box",
    quick_commands: "Quick commands",
    add: "Add",
    edit: "Edit",
    delete: "Delete",
    name: "Name",
    done: "Done",
    clients: "Clients",
    send_to: "Send to",
    all_clients: "All clients",
    kick: "Kick",
    since: "Since",
    all_peers: "All",
    filter: "Filter",
    state_closed: "Closed",
    state_listening: "Listening",
    state_connected: "Connected",
    state_connecting: "Connecting",
    state_bound: "Bound",
    rx: "RX",
    tx: "TX",
    dropped: "Dropped from view",
    reset: "Reset counters",
    language: "Language",
    sent_count: "Sent",
    bad_port: "Port must be a whole number 0–65535",
    bad_remote_port: "Remote port must be a whole number 1–65535",
    bad_ip: "Not a valid IP address",
    bad_host: "Enter a host name or IP address",
    bad_group: "Not a multicast address (224.0.0.0/4 or ff00::/8)",
    bad_number: "Enter a whole number",
    receiving_to: "Writing to",
    pcap_to: "Capturing to",
    reconnecting: "Reconnecting in {}",
    paused: "View paused (counters and file go on)",
    clear_send: "Clear box",
    send_disabled_closed: "Not open: press Open first",
    send_disabled_invalid: "The send box has an error (shown below it)",
    file_dialog_busy: "A file dialog is already open",
    path: "Path",
    ok: "OK",
    cancel: "Cancel",
    dismiss: "Dismiss",
    export: "Export…",
    tip_export: "Export the kept history (as filtered, or just the selected rows) as TXT, CSV, JSON lines or pcapng for Wireshark",
    exporting: "Exporting",
    new_tab: "New tab",
    tip_new_tab: "Open another session in a new tab (Ctrl+T)",
    duplicate_tab: "Duplicate",
    tip_duplicate_tab: "A new tab with this tab's settings",
    split_tab: "Side by side",
    tip_split_tab: "Show this tab beside the others (or drag a tab to a side)",
    close_tab: "Close tab",
    tip_close_tab: "Close this tab (Ctrl+W)",
    rename_tab: "Rename",
    tab_name: "Tab name",
    confirm_close_tab: "This tab's session is still open. Closing the tab closes it.",
    keep_tab: "Keep",
    address: "Address",
    client_rx: "↓ RX",
    client_tx: "↑ TX",
    tip_mode: "TCP server: listen on the local port for clients\nTCP client: connect to the remote host\nUDP: send and receive datagrams",
    tip_local_ip: "The address on this machine to use. 0.0.0.0 = every IPv4 address, :: = every IPv6 address; … lists this machine's addresses",
    tip_local_port: "Local port, 0–65535. 0 = any free port. Each mode remembers its own",
    tip_local_port_client: "The client's own port, 0–65535. 0 (the default) = any free port, as NetAssist does; set one only if the peer needs a fixed source port",
    tip_remote_host: "The peer's IP address or host name; … lists the ones used before",
    tip_remote_port: "The peer's port, 1–65535",
    tip_follow_peer: "After data arrives, replies go to whoever sent last",
    tip_broadcast: "Allow sending to broadcast addresses (such as 255.255.255.255)",
    tip_multicast: "A multicast group to join, e.g. 239.1.2.3 or ff12::1%interface; empty = none",
    tip_reconnect: "Connect again after the connection fails or drops (backing off to at most 5 s)",
    tip_open: "Open the session with the settings above",
    tip_close: "Close the session (the counters stay until Reset)",
    tip_hex_view: "Show the receive view as hex (what is already there is shown again)",
    tip_log_mode: "A time and peer header before each chunk of data",
    tip_show_sent: "Show sent data in the receive view too (blue)",
    tip_wrap: "Wrap long lines at the pane's width",
    tip_encoding: "The encoding of received and sent text (hex is not affected)",
    tip_buffer: "How much the receive view keeps, 1–4096 MiB; the oldest data beyond it is dropped and counted in \"dropped from view\"",
    tip_pause: "Stop showing new data; counters, receive-to-file and automation go on",
    tip_receive_to_file: "Write every received byte, raw, to a file (not limited by the view's buffer)",
    tip_stop_file: "Stop writing the receive file",
    tip_capture_pcap: "Write every byte received and sent as pcapng for Wireshark, as it happens (not limited by the view's buffer)",
    tip_stop_pcap: "Finish the pcap file (TCP connections still open end with FIN in it)",
    tip_clear: "Empty the receive view (the counters stay). Shortcut: Ctrl+L",
    tip_save_view: "Save the receive view (or just its selected rows), as shown, to a text file",
    tip_copy_all: "Copy the whole receive view (or just its selected rows) to the clipboard",
    tip_hex_send: "Type the bytes to send as hex, e.g. 01 03 0A; ticking or unticking converts the send box",
    tip_escapes: "Interpret \\r \\n \\t \\0 \\\\ \\xHH in the text",
    tip_append: "A line ending added after each send (after the checksum)",
    tip_checksum: "A checksum appended to each send",
    tip_periodic: "While ticked, the send box is sent again and again at the interval",
    tip_interval: "Time between sends, 1–86,400,000 ms",
    tip_count: "How many sends in all; 0 = until unticked",
    tip_send_file: "Send a file's bytes as they are",
    tip_send: "Send (Ctrl+Enter)",
    tip_clear_send: "Empty the send box",
    tip_send_to: "In server mode, send to every client or one of them",
    tip_kick: "Disconnect this client",
    tip_filter: "Show only this peer's data",
    tip_rx: "Bytes received in all (exact, whatever the view shows)",
    tip_tx: "Bytes sent in all",
    tip_dropped: "Bytes received and counted but not in the receive view: what the window could not keep up with, plus what fell out of the receive buffer. Receive-to-file gets them all. Only grows until Reset",
    tip_reset: "Set the RX, TX and dropped counters to zero",
    tip_quick_add: "Add a quick command",
    tip_quick_edit: "Edit or delete this quick command",
    tip_language: "The window's language",
    auto: &AUTO_EN,
    find: "Find",
    select_row: "Select row",
    tip_select_row: "Click to select this row, Shift+click to select a range; Save, Copy and Export then take only \
                     the selected rows. Esc clears the selection",
    rows_selected: "Rows selected:",
    clear_selection: "Clear selection",
    save_selection: "Save selection…",
    copy_selection: "Copy selection",
    export_selection: "Export selection…",
    tip_find: "Search all the data the receive view keeps (Ctrl+F): text, hex bytes or a regex",
    find_text: "Text",
    find_hex: "Hex",
    find_regex: "Regex",
    find_next: "Next",
    find_previous: "Previous",
    tip_find_field: "Enter: next; Shift+Enter: previous; Esc: close",
    plot: "Plot",
    tip_plot: "Bytes received and sent per second over the last 5 minutes (the engine's exact counters)",
    plot_rx: "RX bytes/s",
    plot_tx: "TX bytes/s",
    plot_messages: "messages/s",
    plot_seconds: "s",
    missed_ticks: "Ticks skipped",
    tip_missed_ticks: "Periodic sends skipped because the sender was late for them (never made up in a burst)",
    kernel_dropped: "Kernel dropped",
    tip_kernel_dropped: "UDP datagrams the operating system dropped because the receive buffer was full",
};

/// What the window tells the user, kept as a value and put into words when drawn, so switching the language
/// re-translates what is on screen.
#[derive(Debug, Clone)]
pub enum Notice {
    Net(Arc<NetError>),
    Payload(PayloadError),
    /// A file the window itself could not write (save view).
    Write {
        path: PathBuf,
        error: Arc<io::Error>,
    },
    /// No file dialog exists on this system: the window asks for a typed path.
    NoFileDialog,
    /// Settings that could not be read got their defaults; `kept` is where the unreadable file was copied.
    SettingsDropped {
        fields: Vec<String>,
        kept: Option<PathBuf>,
    },
}

/// Engine and send-box errors in the window's language. The English texts are the errors' own (the command line
/// prints those); Chinese gets its own words, with the address, position or character kept as they are.
impl Lang {
    pub fn net_error(self, error: &NetError) -> String {
        match self {
            Lang::En => error.to_string(),
            Lang::Zh => net_error_zh(error),
        }
    }

    pub fn payload_error(self, error: &PayloadError) -> String {
        match self {
            Lang::En => error.to_string(),
            Lang::Zh => payload_error_zh(error),
        }
    }

    pub fn find_error(self, error: &FindError) -> String {
        match (self, error) {
            (Lang::En, _) => error.to_string(),
            (Lang::Zh, FindError::Hex(error)) => payload_error_zh(&PayloadError::Hex(error.clone())),
            (Lang::Zh, FindError::Text(error)) => payload_error_zh(&PayloadError::Text(error.clone())),
            (Lang::Zh, FindError::Regex(message)) => format!("正则表达式有误：{message}"),
            (Lang::Zh, FindError::TooLong { len }) => {
                format!(
                    "查找内容有 {len} 字节，最多 {} 字节",
                    crate::export::search::MAX_PATTERN
                )
            }
        }
    }

    /// "3 / 17 matches", "searching… 17", "100000+ matches" (the search stopped counting).
    pub fn find_count(self, current: Option<usize>, found: usize, done: bool, capped: bool) -> String {
        let plus = if capped { "+" } else { "" };
        let current = current.map_or(String::new(), |index| format!("{} / ", index + 1));
        match (self, done) {
            (Lang::En, true) => format!("{current}{found}{plus} matches"),
            (Lang::En, false) => format!("{current}{found}… searching"),
            (Lang::Zh, true) => format!("{current}{found}{plus} 个匹配"),
            (Lang::Zh, false) => format!("{current}{found}… 正在查找"),
        }
    }

    pub fn notice(self, notice: &Notice) -> String {
        match notice {
            Notice::Net(error) => self.net_error(error),
            Notice::Payload(error) => self.payload_error(error),
            Notice::Write { path, error } => self.write_error(path, error),
            Notice::NoFileDialog => match self {
                Lang::En => "No file dialog is available on this system (it needs xdg-desktop-portal or zenity). \
                             Type a path instead."
                    .to_string(),
                Lang::Zh => {
                    "本系统没有可用的文件对话框（需要 xdg-desktop-portal 或 zenity）。请直接输入路径。".to_string()
                }
            },
            Notice::SettingsDropped { fields, kept } => {
                let all = fields.iter().any(|field| field == "*");
                let kept = kept.as_ref().map(|path| path.display());
                let what = match (self, all) {
                    (Lang::En, true) => "The settings file could not be read; defaults are used.".to_string(),
                    (Lang::En, false) => format!(
                        "Some settings could not be read and have their defaults: {}.",
                        fields.join(", ")
                    ),
                    (Lang::Zh, true) => "设置文件无法读取，已使用默认设置。".to_string(),
                    (Lang::Zh, false) => format!("部分设置无法读取，已改用默认值：{}。", fields.join("、")),
                };
                let kept = match (self, kept) {
                    (_, None) => String::new(),
                    (Lang::En, Some(path)) => format!(" The file was kept as {path}."),
                    (Lang::Zh, Some(path)) => format!("原文件已保存为 {path}。"),
                };
                what + &kept
            }
        }
    }

    /// A rule in the window's table that cannot be used, naming it (the problem itself is the engine's words).
    pub fn rules_error(self, error: &RulesError) -> String {
        let (number, name, key, problem) = match error {
            RulesError::Rule {
                number,
                name,
                key,
                problem,
                ..
            } => (number, name, key, problem),
            RulesError::Syntax { message, .. } => return message.clone(),
        };
        match self {
            Lang::En => format!("rule {number}{}: `{key}`: {problem}", named(name)),
            Lang::Zh => format!("规则 {number}{}：`{key}`：{problem}", named(name)),
        }
    }

    /// A step in the window's script that cannot run, naming it.
    pub fn script_error(self, error: &ScriptError) -> String {
        let (number, key, problem) = match error {
            ScriptError::Step {
                number, key, problem, ..
            } => (number, key, problem),
            ScriptError::Syntax { message, .. } => return message.clone(),
        };
        match self {
            Lang::En => format!("step {number}: `{key}`: {problem}"),
            Lang::Zh => format!("第 {number} 步：`{key}`：{problem}"),
        }
    }

    pub fn framing_error(self, error: &FramingError) -> String {
        match (self, error) {
            (Lang::En, error) => error.to_string(),
            (Lang::Zh, FramingError::Delimiter(error)) => {
                format!("分隔符：{}", payload_error_zh(&PayloadError::Hex(error.clone())))
            }
            (Lang::Zh, FramingError::EmptyDelimiter) => "分隔符为空".into(),
            (Lang::Zh, FramingError::LongDelimiter(n)) => format!("分隔符有 {n} 个字节，最多 {MAX_DELIMITER} 个"),
            (Lang::Zh, FramingError::Gap(_)) => "间隔须为 1 到 3600000 之间的整数毫秒".into(),
            (Lang::Zh, FramingError::Unknown(text)) => format!("未知的分帧方式 \"{text}\""),
        }
    }

    /// A file the window itself could not write (save view).
    pub fn write_error(self, path: &Path, error: &io::Error) -> String {
        match self {
            Lang::En => format!("cannot write {}: {}", path.display(), describe(error)),
            Lang::Zh => format!("无法写入 {}：{}", path.display(), io_error_zh(error)),
        }
    }
}

/// " (name)" after a rule's number, when it has one.
fn named(name: &Option<String>) -> String {
    name.as_deref().map(|name| format!(" ({name})")).unwrap_or_default()
}

fn net_error_zh(error: &NetError) -> String {
    match error {
        NetError::Listen { addr, source } => format!("无法在 {addr} 上监听：{}", io_error_zh(source)),
        NetError::Bind { addr, source } => format!("无法绑定 {addr}：{}", io_error_zh(source)),
        NetError::Resolve { host, reason } => format!("无法解析主机名 {host}：{reason}"),
        NetError::Connect { addr, source } => format!("无法连接 {addr}：{}", io_error_zh(source)),
        NetError::ConnectTimeout { addr, millis } => format!("无法连接 {addr}：{millis} ms 内未响应（超时）"),
        NetError::Accept { addr, source } => format!("{addr} 无法接受新连接：{}", io_error_zh(source)),
        NetError::Receive { addr, source } => format!("从 {addr} 接收失败：{}", io_error_zh(source)),
        NetError::Send { addr, source } => format!("发送到 {addr} 失败：{}", io_error_zh(source)),
        NetError::Join { group, source } => format!("无法加入组播组 {group}：{}", io_error_zh(source)),
        NetError::Leave { group, source } => format!("无法退出组播组 {group}：{}", io_error_zh(source)),
        NetError::SocketOption { option, addr, source } => {
            format!("无法在 {addr} 上设置 {option}：{}", io_error_zh(source))
        }
        NetError::NoPeer(why) => format!("无法发送：{}", nobody_zh(*why)),
        NetError::UnknownPeer { addr } => format!("无法发送到 {addr}：该连接已断开"),
        NetError::SendQueueFull { addr, queued } => format!("无法发送到 {addr}：已有 {queued} 字节在等待发送"),
        NetError::DatagramTooLarge { addr, len } => {
            let limit = crate::net::max_datagram(*addr);
            format!("无法向 {addr} 发送 {len} 字节：一个 UDP 数据报最多 {limit} 字节")
        }
        NetError::Capture(capture) => format!(
            "无法写入接收文件 {}：{}",
            capture.path.display(),
            io_error_zh(&capture.source)
        ),
        NetError::Pcap(pcap) => format!(
            "无法写入 pcap 文件 {}：{}",
            pcap.path.display(),
            io_error_zh(&pcap.source)
        ),
        NetError::ReadFile { path, source } => format!("无法读取 {}：{}", path.display(), io_error_zh(source)),
        // Rare and internal: the English text says more than a translation would.
        _ => error.to_string(),
    }
}

fn nobody_zh(why: Nobody) -> &'static str {
    match why {
        Nobody::NotOpen => "未打开",
        Nobody::NotConnected => "未连接",
        Nobody::NoClients => "没有已连接的客户端",
        Nobody::KickNeedsServer => "只有 TCP 服务器可以断开客户端",
        Nobody::RemoteNeedsUdp => "只有 UDP 可以更改远程地址",
        Nobody::GroupsNeedUdp => "只有 UDP 可以加入组播组",
        Nobody::StillResolving => "仍在解析远程主机名，发送队列已满",
        Nobody::NoRemote => "没有远程地址：请填写，或等对方先发来数据",
    }
}

fn io_error_zh(error: &io::Error) -> String {
    use io::ErrorKind::*;
    let words = match error.kind() {
        AddrInUse => "地址已被占用",
        AddrNotAvailable => "本机没有这个地址",
        PermissionDenied => "权限不足",
        ConnectionRefused => "连接被拒绝",
        ConnectionReset => "连接被对方重置",
        ConnectionAborted => "连接被中止",
        TimedOut => "超时",
        HostUnreachable => "主机不可达",
        NetworkUnreachable => "网络不可达",
        BrokenPipe => "连接已被对方关闭",
        StorageFull => "磁盘空间不足",
        NotFound => "找不到文件或目录",
        _ => return describe(error),
    };
    words.to_string()
}

fn payload_error_zh(error: &PayloadError) -> String {
    match error {
        PayloadError::Hex(HexError::BadDigit { position, ch }) => {
            format!("第 {position} 个字符 '{ch}' 不是十六进制数字")
        }
        PayloadError::Hex(HexError::OddDigits { position, token }) => {
            format!("第 {position} 个字符起的 \"{token}\" 十六进制位数为奇数")
        }
        PayloadError::Escape(EscapeError::Unknown { position, ch }) => {
            format!("第 {position} 个字符处的转义 \\{ch} 无法识别（可用：\\r \\n \\t \\0 \\\\ \\xHH）")
        }
        PayloadError::Escape(EscapeError::Trailing { position }) => {
            format!("第 {position} 个字符：末尾单独的 \\（反斜杠本身请写 \\\\）")
        }
        PayloadError::Escape(EscapeError::BadHex { position, found }) => {
            format!("第 {position} 个字符处的 \\x 转义不完整：需要两位十六进制数字，实际为 \"{found}\"")
        }
        PayloadError::Text(TextError::UnknownEncoding { name }) => format!("未知编码 \"{name}\""),
        PayloadError::Text(TextError::Unencodable { ch, position, encoding }) => {
            format!("第 {position} 个字符 '{ch}' 无法用 {encoding} 编码")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_locales_get_chinese_labels() {
        for (locale, lang) in [
            ("zh-CN", Lang::Zh),
            ("zh_TW.UTF-8", Lang::Zh),
            ("en-US", Lang::En),
            ("de", Lang::En),
        ] {
            assert_eq!(Lang::from_locale(locale), lang, "{locale}");
        }
        assert_eq!(Lang::Zh.texts().open, "打开");
        assert_eq!(Lang::En.texts().open, "Open");
    }

    #[test]
    fn errors_read_in_the_window_language() {
        let in_use = NetError::Listen {
            addr: "0.0.0.0:7788".parse().expect("addr"),
            source: io::Error::from(io::ErrorKind::AddrInUse),
        };
        assert_eq!(
            Lang::En.net_error(&in_use),
            "cannot listen on 0.0.0.0:7788: address in use"
        );
        assert_eq!(Lang::Zh.net_error(&in_use), "无法在 0.0.0.0:7788 上监听：地址已被占用");
        let refused = NetError::Connect {
            addr: "127.0.0.1:1".parse().expect("addr"),
            source: io::Error::from(io::ErrorKind::ConnectionRefused),
        };
        assert_eq!(Lang::Zh.net_error(&refused), "无法连接 127.0.0.1:1：连接被拒绝");
        assert_eq!(
            Lang::Zh.net_error(&NetError::NoPeer(Nobody::NotOpen)),
            "无法发送：未打开"
        );
        let bad_hex = PayloadError::Hex(HexError::BadDigit { position: 5, ch: 'G' });
        assert_eq!(Lang::En.payload_error(&bad_hex), "bad hex digit 'G' at position 5");
        assert_eq!(Lang::Zh.payload_error(&bad_hex), "第 5 个字符 'G' 不是十六进制数字");
        let unencodable = PayloadError::Text(TextError::Unencodable {
            ch: '€',
            position: 3,
            encoding: "gbk",
        });
        assert_eq!(Lang::Zh.payload_error(&unencodable), "第 3 个字符 '€' 无法用 gbk 编码");
    }
}
