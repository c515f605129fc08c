//! Labels in Chinese and English. One struct per language, so a missing label is a compile error.
use std::io;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::codec::escape::EscapeError;
use crate::codec::hex::HexError;
use crate::codec::text::TextError;
use crate::net::{NetError, Nobody, describe};
use crate::send::PayloadError;

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
    pub reconnecting: &'static str,
    pub paused: &'static str,
}

pub static ZH: Texts = Texts {
    title: "Wirepad 网络调试助手",
    connection: "通信设置",
    mode: "协议类型",
    tcp_client: "TCP Client",
    tcp_server: "TCP Server",
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
    reconnecting: "将在 {} 后重连",
    paused: "已暂停显示 (计数和写文件照常)",
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
    reconnecting: "Reconnecting in {}",
    paused: "View paused (counters and file go on)",
};

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

    /// A file the window itself could not write (save view).
    pub fn write_error(self, path: &Path, error: &io::Error) -> String {
        match self {
            Lang::En => format!("cannot write {}: {}", path.display(), describe(error)),
            Lang::Zh => format!("无法写入 {}：{}", path.display(), io_error_zh(error)),
        }
    }
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
        NetError::Capture { path, source } => format!("无法写入接收文件 {}：{}", path.display(), io_error_zh(source)),
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
        Nobody::KickNeedsServer => "只有 TCP Server 可以断开客户端",
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
