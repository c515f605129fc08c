//! The engine's errors and the window's notices in the window's language. Every `match` here names every variant
//! of the error it describes, so an error variant added later is a compile error here until it has its Chinese
//! words, instead of reaching the Chinese window in English.
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::Lang;
use crate::automation::Location;
use crate::automation::problem::{Problem, ReplyProblem};
use crate::automation::rules::RulesError;
use crate::automation::script::ScriptError;
use crate::codec::escape::EscapeError;
use crate::codec::framing::{FramingError, MAX_DELIMITER};
use crate::codec::hex::HexError;
use crate::codec::text::TextError;
use crate::export::find::FindError;
use crate::net::tls::{CertProblem, Heard, TlsError, TlsFailure};
use crate::net::{NetError, Nobody, describe};
use crate::payload::PayloadError;
use crate::settings::file::Damage;
use crate::vars::{MAX_RAND, VarError};

/// What the window tells the user, kept as a value and put into words when drawn, so switching the language
/// re-translates what is on screen.
#[derive(Debug, Clone)]
pub enum Notice {
    Net(Arc<NetError>),
    Payload(PayloadError),
    /// The send box's variables (the Variables box is ticked) do not parse.
    Vars(VarError),
    /// A file the window itself could not write (save view).
    Write {
        path: PathBuf,
        error: Arc<io::Error>,
    },
    /// No file dialog exists on this system: the window asks for a typed path.
    NoFileDialog,
    /// A save or an export was written whole.
    Saved {
        path: PathBuf,
    },
    /// A rules or script file to import could not be read.
    Read {
        path: PathBuf,
        error: Arc<io::Error>,
    },
    /// A rules file to import was refused (the command line's `--rules` check).
    RulesFile {
        path: PathBuf,
        error: RulesError,
    },
    /// A script file to import was refused (the command line's `--script` check).
    ScriptFile {
        path: PathBuf,
        error: ScriptError,
    },
    /// Settings that could not be used: `fields` got their defaults (`"*"`: all of them), `cut` were texts
    /// too long; `damage` says why the file could not be read whole; `kept` is where it was kept; `left`: it
    /// could not be moved aside, so it is left as it was and this run's settings are saved elsewhere.
    SettingsDropped {
        fields: Vec<String>,
        cut: Vec<String>,
        damage: Option<Damage>,
        kept: Option<PathBuf>,
        left: bool,
    },
    /// The send box holds at most `limit` characters (a paste was cut, or a conversion to hex refused).
    SendBoxFull {
        limit: usize,
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

    pub fn vars_error(self, error: &VarError) -> String {
        match (self, error) {
            (Lang::En, _) => error.to_string(),
            (Lang::Zh, VarError::Unknown { name, position }) => format!(
                "第 {position} 个字符处的变量 {{{name}}} 无法识别（可用：{{seq}} {{conn}} {{time_us}} {{rand:N}} \
                 {{count}} {{peer}} {{time}}；大括号本身请写 {{{{）"
            ),
            (Lang::Zh, VarError::Unclosed { position }) => {
                format!("第 {position} 个字符处的 {{ 没有配对的 }}（大括号本身请写 {{{{）")
            }
            (Lang::Zh, VarError::BadRand { n, position }) => {
                format!("第 {position} 个字符处的 {{rand:{n}}}：请给 1 到 {MAX_RAND} 个字节")
            }
            (Lang::Zh, VarError::Literal { source, position }) => {
                format!("{}（在第 {position} 个字符起的文字中）", payload_error_zh(source))
            }
        }
    }

    pub fn find_error(self, error: &FindError) -> String {
        match (self, error) {
            (Lang::En, _) => error.to_string(),
            (Lang::Zh, FindError::Hex(error)) => payload_error_zh(&PayloadError::Hex(error.clone())),
            (Lang::Zh, FindError::Text(error)) => payload_error_zh(&PayloadError::Text(error.clone())),
            (Lang::Zh, FindError::Regex(message)) => format!("正则表达式有误：{message}"),
            (Lang::Zh, FindError::TooLong { len }) => {
                format!("查找内容有 {len} 字节，最多 {} 字节", crate::export::find::MAX_PATTERN)
            }
        }
    }

    /// A TLS file or option refused at Open, for beside its field: the field names the option, so the words
    /// say only what is wrong (the file's own problem in the engine's words, which users search for).
    pub fn tls_setup(self, error: &TlsError) -> String {
        match (self, error) {
            (Lang::En, TlsError::Read { path, source, .. }) => {
                format!("cannot read {}: {}", path.display(), describe(source))
            }
            (Lang::Zh, TlsError::Read { path, source, .. }) => {
                format!("无法读取 {}：{}", path.display(), io_error_zh(source))
            }
            (Lang::En, TlsError::File { path, problem, .. }) => format!("{}: {problem}", path.display()),
            (Lang::Zh, TlsError::File { path, problem, .. }) => format!("{}：{problem}", path.display()),
            (_, TlsError::Option { problem, .. }) => problem.clone(),
        }
    }

    /// Why a certificate did not verify (the certificate panel's verdict).
    pub fn cert_problem(self, problem: &CertProblem) -> String {
        match self {
            Lang::En => problem.to_string(),
            Lang::Zh => cert_problem_zh(problem),
        }
    }

    pub fn notice(self, notice: &Notice) -> String {
        match notice {
            Notice::Net(error) => self.net_error(error),
            Notice::Payload(error) => self.payload_error(error),
            Notice::Vars(error) => self.vars_error(error),
            Notice::Write { path, error } => self.write_error(path, error),
            Notice::Saved { path } => match self {
                Lang::En => format!("Saved to {}", path.display()),
                Lang::Zh => format!("已保存到 {}", path.display()),
            },
            Notice::Read { path, error } => match self {
                Lang::En => format!("cannot read {}: {}", path.display(), describe(error)),
                Lang::Zh => format!("无法读取 {}：{}", path.display(), io_error_zh(error)),
            },
            Notice::RulesFile { path, error } => self.in_file(path, error.at(), self.rules_error(error)),
            Notice::ScriptFile { path, error } => self.in_file(path, error.at(), self.script_error(error)),
            Notice::NoFileDialog => match self {
                Lang::En => "No file dialog is available on this system (it needs xdg-desktop-portal or zenity). \
                             Type a path instead."
                    .to_string(),
                Lang::Zh => {
                    "本系统没有可用的文件对话框（需要 xdg-desktop-portal 或 zenity）。请直接输入路径。".to_string()
                }
            },
            Notice::SettingsDropped {
                fields,
                cut,
                damage,
                kept,
                left,
            } => self.settings_dropped(fields, cut, damage.as_ref(), kept.as_deref(), *left),
            Notice::SendBoxFull { limit } => match self {
                Lang::En => format!("The send box holds at most {limit} characters; larger data goes with Send file."),
                Lang::Zh => format!("发送框最多 {limit} 个字符；更大的数据请用“发送文件”。"),
            },
        }
    }

    /// What could not be used of the settings file, and where the file was kept.
    fn settings_dropped(
        self,
        fields: &[String],
        cut: &[String],
        damage: Option<&Damage>,
        kept: Option<&Path>,
        left: bool,
    ) -> String {
        let all = fields.iter().any(|field| field == "*");
        let mut parts = Vec::new();
        if let Some(damage) = damage {
            let nothing = matches!(damage, Damage::NotSettings | Damage::TooLarge { .. });
            parts.push(match (self, nothing) {
                (Lang::En, true) => format!(
                    "The settings file could not be read ({}); defaults are used.",
                    self.damage(damage)
                ),
                (Lang::En, false) => format!(
                    "The settings file could not be read whole ({}); what could be read is used.",
                    self.damage(damage)
                ),
                (Lang::Zh, true) => format!("设置文件无法读取（{}），已使用默认设置。", self.damage(damage)),
                (Lang::Zh, false) => format!("设置文件不完整（{}），已使用其中能读取的部分。", self.damage(damage)),
            });
        }
        let fields: Vec<&str> = fields
            .iter()
            .map(String::as_str)
            .filter(|field| *field != "*")
            .collect();
        parts.push(match (self, all, fields.is_empty()) {
            (Lang::En, true, _) => "The settings file could not be read; defaults are used.".to_string(),
            (Lang::Zh, true, _) => "设置文件无法读取，已使用默认设置。".to_string(),
            (_, false, true) => String::new(),
            (Lang::En, false, false) => format!(
                "Some settings could not be read and have their defaults: {}.",
                fields.join(", ")
            ),
            (Lang::Zh, false, false) => format!("部分设置无法读取，已改用默认值：{}。", fields.join("、")),
        });
        let limit = crate::settings::check::MAX_TEXT;
        parts.push(match (self, cut.is_empty()) {
            (_, true) => String::new(),
            (Lang::En, false) => format!(
                "Too long, cut to {limit} characters (or {} rows): {}.",
                crate::settings::check::MAX_ROWS,
                cut.join(", ")
            ),
            (Lang::Zh, false) => format!(
                "内容过长，已截短为 {limit} 个字符（或 {} 行）：{}。",
                crate::settings::check::MAX_ROWS,
                cut.join("、")
            ),
        });
        parts.push(match (self, kept, left) {
            (Lang::En, Some(path), _) => format!("The file was kept as {}.", path.display()),
            (Lang::Zh, Some(path), _) => format!("原文件已保存为 {}。", path.display()),
            (Lang::En, None, true) => {
                "The file could not be moved aside: it is left as it was, and this run's settings are not saved over it."
                    .to_string()
            }
            (Lang::Zh, None, true) => "原文件无法移开：已原样保留，本次运行的设置不会覆盖它。".to_string(),
            (_, None, false) => String::new(),
        });
        parts.retain(|part| !part.is_empty());
        parts.join(if self == Lang::En { " " } else { "" })
    }

    /// Why a settings file could not be read whole, in a few words.
    fn damage(self, damage: &Damage) -> String {
        match (self, damage) {
            (Lang::En, Damage::TooLarge { bytes }) => format!("{bytes} bytes, more than a settings file can be"),
            (Lang::En, Damage::NotUtf8 { at }) => format!("byte {at} is not UTF-8"),
            (Lang::En, Damage::CutShort) => "it ends too soon".to_string(),
            (Lang::En, Damage::NotSettings) => "it is not a settings file".to_string(),
            (Lang::Zh, Damage::TooLarge { bytes }) => format!("{bytes} 字节，超出设置文件的大小"),
            (Lang::Zh, Damage::NotUtf8 { at }) => format!("第 {at} 字节不是 UTF-8"),
            (Lang::Zh, Damage::CutShort) => "文件不完整".to_string(),
            (Lang::Zh, Damage::NotSettings) => "不是设置文件".to_string(),
        }
    }

    /// A rule in the window's table that cannot be used, naming it.
    pub fn rules_error(self, error: &RulesError) -> String {
        let (number, name, key, problem) = match error {
            RulesError::Rule {
                number,
                name,
                key,
                problem,
                ..
            } => (number, name, key, problem),
            RulesError::Syntax { message, .. } => return self.syntax_error(message),
            RulesError::NotUtf8(error) => return self.not_utf8(error.byte),
        };
        match self {
            Lang::En => format!("rule {number}{}: `{key}`: {problem}", named(name)),
            Lang::Zh => format!("规则 {number}{}：`{key}`：{}", named(name), problem_zh(problem)),
        }
    }

    /// A step in the window's script that cannot run, naming it.
    pub fn script_error(self, error: &ScriptError) -> String {
        let (number, key, problem) = match error {
            ScriptError::Step {
                number, key, problem, ..
            } => (number, key, problem),
            ScriptError::Syntax { message, .. } => return self.syntax_error(message),
            ScriptError::NotUtf8(error) => return self.not_utf8(error.byte),
        };
        match self {
            Lang::En => format!("step {number}: `{key}`: {problem}"),
            Lang::Zh => format!("第 {number} 步：`{key}`：{}", problem_zh(problem)),
        }
    }

    /// Why a rule that matched sent nothing.
    pub fn reply_problem(self, problem: &ReplyProblem) -> String {
        match (self, problem) {
            (Lang::En, problem) => problem.to_string(),
            (Lang::Zh, ReplyProblem::Encode(error)) => {
                format!("回复无法编码：{}", payload_error_zh(&PayloadError::Text(error.clone())))
            }
            (Lang::Zh, ReplyProblem::LengthField { length, size }) => {
                format!("改写后的 {length} 字节超出 {size} 字节长度字段的范围")
            }
        }
    }

    /// A file that is not TOML (in Chinese the parser's own words follow: they name TOML's terms).
    fn syntax_error(self, message: &str) -> String {
        match self {
            Lang::En => message.to_owned(),
            Lang::Zh => format!("TOML 格式有误（{message}）"),
        }
    }

    fn not_utf8(self, byte: u8) -> String {
        match self {
            Lang::En => format!("not UTF-8 text (byte 0x{byte:02X})"),
            Lang::Zh => format!("字节 0x{byte:02X} 不是 UTF-8 文本（文件须以 UTF-8 保存）"),
        }
    }

    /// A file's problem with its path and place (in English, the command line's very words).
    fn in_file(self, path: &Path, at: Location, problem: String) -> String {
        match self {
            Lang::En => format!("{}: {at}: {problem}", path.display()),
            Lang::Zh => format!("{}：第 {} 行第 {} 列：{problem}", path.display(), at.line, at.column),
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

/// A rule's or a step's problem in Chinese.
fn problem_zh(problem: &Problem) -> String {
    match problem {
        Problem::MatchesEverything => "为空：会匹配每一条消息".into(),
        Problem::MatchesAtOnce => "为空：会立即匹配".into(),
        Problem::NoPattern => "没有匹配内容：请填写文本、HEX 前缀或正则之一".into(),
        Problem::SeveralPatterns => "文本、HEX 前缀和正则只能填一个".into(),
        Problem::NoReply => "没有回复：请填写回复文本或回复 HEX".into(),
        Problem::BothReplies => "回复文本和回复 HEX 只能填一个".into(),
        Problem::RewriteWithoutReply => "改写需要回复文本或回复 HEX：转发时用它代替原消息".into(),
        Problem::OnlyInRelay => "方向和回复以外的动作只在中继中有效".into(),
        Problem::DelayTooLong { ms, max } => format!("{ms} ms 超过一小时（最多 {max}）"),
        Problem::WaitTooLong { ms, max } => format!("{ms} ms 超过一天（最多 {max}）"),
        Problem::Regex(why) => format!("正则表达式无法编译：{why}"),
        Problem::NoSuchGroup { group, groups: 0 } => {
            format!("${group} 引用了正则分组，但本规则没有正则分组（美元符号本身请写 $$）")
        }
        Problem::NoSuchGroup { group, groups } => {
            format!("${group} 引用了正则分组，但正则只有 {groups} 个分组（美元符号本身请写 $$）")
        }
        Problem::NoAction => "没有动作：请填写发送、等待或延时之一".into(),
        Problem::SeveralActions => "一个步骤只能有一个动作".into(),
        Problem::ChecksumWithoutSend => "只有发送步骤可以带校验".into(),
        Problem::TimeoutWithoutExpect => "只有等待步骤可以设超时".into(),
        Problem::Payload(error) => payload_error_zh(error),
        Problem::Vars(error) => Lang::Zh.vars_error(error),
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
        NetError::Unsent { to, queued } => format!("无法发送到 {to}：会话停止时仍有 {queued} 字节在等待发送"),
        NetError::FileStopped { path, left, total } => {
            format!(
                "无法发送 {}：会话已停止，{total} 字节中有 {left} 字节未发送",
                path.display()
            )
        }
        NetError::RelayLoop { listen, upstream } => {
            format!("上游 {upstream} 就是本中继（监听于 {listen}）：会转发给自己")
        }
        NetError::Pair { client, source } => format!("客户端 {client}：{}", net_error_zh(source)),
        NetError::PairsFull { client, pairs, dropped } => {
            format!(
                "已拒绝客户端 {client}：已有 {pairs} 个客户端（--max-pairs）；超出上限的客户端的数据报已丢弃 {dropped} 个"
            )
        }
        NetError::Tls { addr, reason } => format!("与 {addr} 的 TLS 失败：{}", tls_failure_zh(reason)),
        NetError::TlsSetup { error, .. } => format!("TLS 设置有误：{}", Lang::Zh.tls_setup(error)),
        NetError::Internal(source) => format!("无法启动会话：{}", io_error_zh(source)),
        NetError::Panicked { message, log } => match log {
            Some(path) => format!("会话因内部错误而停止：{message}；详情见崩溃日志 {}", path.display()),
            None => format!("会话因内部错误而停止：{message}；详情见标准错误输出（无法写入崩溃日志）"),
        },
    }
}

fn nobody_zh(why: Nobody) -> &'static str {
    match why {
        Nobody::NotOpen => "未打开",
        Nobody::NotConnected => "未连接",
        Nobody::NoClients => "没有已连接的客户端",
        Nobody::UpstreamNeedsRelay => "只有中继有上游可以发送",
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
        WriteZero => "连接不再接收数据",
        UnexpectedEof => "连接在数据中途结束",
        NotConnected => "未连接",
        AlreadyExists => "已存在",
        IsADirectory => "这是一个目录",
        ReadOnlyFilesystem => "文件系统只读",
        OutOfMemory => "内存不足",
        NetworkDown => "网络已断开",
        // `io::ErrorKind` is `#[non_exhaustive]`: the standard library may add kinds, so a catch-all is required.
        // Those get the system's own description (with its error number), said to be the system's.
        _ => return format!("系统错误：{}", describe(error)),
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

/// Words rustls has that have no kind of their own (`Other`) stay as rustls says them: users search for them.
fn cert_problem_zh(problem: &CertProblem) -> String {
    match problem {
        CertProblem::UnknownIssuer => "签发者未知 / 自签名".into(),
        CertProblem::Expired => "已过期".into(),
        CertProblem::ExpiredAt(until) => format!("已过期（有效期至 Unix 时间 {until}）"),
        CertProblem::NotValidYet => "尚未生效".into(),
        CertProblem::NameMismatch => "名称不匹配".into(),
        CertProblem::NameMismatchFor { expected, presented } => {
            format!("名称不匹配：需要 {expected}，证书适用于 {}", presented.join(", "))
        }
        CertProblem::BadSignature => "签名无效".into(),
        CertProblem::Revoked => "已吊销".into(),
        CertProblem::NoTrustAnchors => "没有可信的 CA：系统证书库为空（请指定信任的 CA）".into(),
        CertProblem::Other(words) => words.clone(),
    }
}

fn tls_failure_zh(failure: &TlsFailure) -> String {
    match failure {
        TlsFailure::NoTls(sent) => format!("对方使用的不是 TLS：它发来了 {sent}"),
        TlsFailure::ClosedDuringHandshake => "对方在握手期间关闭了连接".into(),
        TlsFailure::OnlyOldVersions => "对方只支持 TLS 1.0/1.1，rustls 不支持（只支持 1.2 和 1.3）".into(),
        TlsFailure::NoVersionInCommon => "没有双方都支持的 TLS 版本（见“TLS 版本”）".into(),
        TlsFailure::NoCipherSuite => "没有双方都支持的密码套件".into(),
        TlsFailure::NoKeyExchange => "没有双方都支持的密码套件：对方提供的密钥交换 rustls 都不支持（支持 X25519、\
                                      P-256 或 P-384 的 ECDHE；不支持 RSA 密钥交换）"
            .into(),
        TlsFailure::PeerEndedHandshake => {
            "对方终止了握手（handshake_failure：通常是没有双方都支持的密码套件或版本）".into()
        }
        TlsFailure::ClientCertMissing => "需要客户端证书：客户端没有出示".into(),
        TlsFailure::ClientCertRequired => "服务器要求客户端证书（见“客户端证书”）".into(),
        TlsFailure::Alert(alert) => format!("对方拒绝了握手：{alert} 警报"),
        TlsFailure::CertificateRefused(problem) => format!("证书被拒绝：{}", cert_problem_zh(problem)),
        TlsFailure::Timeout { millis, heard } => {
            let heard = match heard {
                Heard::Nothing => "对方什么也没有发送".to_owned(),
                Heard::NoTls(sent) => format!("对方使用的不是 TLS：它发来了 {sent}"),
                Heard::Unfinished => "对方没有完成握手".to_owned(),
            };
            format!("{millis} 毫秒内没有完成 TLS 握手：{heard}")
        }
        TlsFailure::Other(words) => words.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 22.7: what a rule's or a step's check says, and the engine's I/O errors, read in Chinese: no English
    /// sentence is left in them (names the user typed, keys and TOML's own words aside).
    #[test]
    fn problems_and_io_errors_read_in_chinese() {
        let at = Location { line: 1, column: 1 };
        let rule = |problem| RulesError::Rule {
            at,
            number: 1,
            name: None,
            key: "match",
            problem,
        };
        assert_eq!(
            Lang::Zh.rules_error(&rule(Problem::MatchesEverything)),
            "规则 1：`match`：为空：会匹配每一条消息"
        );
        let step = ScriptError::Step {
            at,
            number: 2,
            key: "expect",
            problem: Problem::MatchesAtOnce,
        };
        assert_eq!(Lang::Zh.script_error(&step), "第 2 步：`expect`：为空：会立即匹配");
        let write_zero = NetError::Send {
            addr: "127.0.0.1:9".parse().expect("addr"),
            source: io::Error::from(io::ErrorKind::WriteZero),
        };
        assert_eq!(
            Lang::Zh.net_error(&write_zero),
            "发送到 127.0.0.1:9 失败：连接不再接收数据"
        );
        assert!(!Lang::En.net_error(&write_zero).contains("write zero"));
        let problems = [
            Problem::MatchesEverything,
            Problem::MatchesAtOnce,
            Problem::NoPattern,
            Problem::SeveralPatterns,
            Problem::NoReply,
            Problem::BothReplies,
            Problem::RewriteWithoutReply,
            Problem::DelayTooLong { ms: 5, max: 4 },
            Problem::WaitTooLong { ms: 5, max: 4 },
            Problem::NoSuchGroup { group: 2, groups: 0 },
            Problem::NoSuchGroup { group: 2, groups: 1 },
            Problem::NoAction,
            Problem::SeveralActions,
            Problem::ChecksumWithoutSend,
            Problem::TimeoutWithoutExpect,
            Problem::Payload(Box::new(PayloadError::Hex(HexError::BadDigit { position: 1, ch: 'x' }))),
        ];
        let replies = [
            ReplyProblem::LengthField { length: 300, size: 1 },
            ReplyProblem::Encode(TextError::Unencodable {
                ch: '€',
                position: 1,
                encoding: "gbk",
            }),
        ];
        let texts = problems
            .into_iter()
            .map(|problem| Lang::Zh.rules_error(&rule(problem)))
            .chain(replies.iter().map(|problem| Lang::Zh.reply_problem(problem)));
        for text in texts {
            let english = text
                .split(|c: char| !c.is_ascii_alphabetic())
                .filter(|word| word.len() > 3 && !["match", "gbk"].contains(word))
                .collect::<Vec<_>>();
            assert!(english.is_empty(), "{text}: {english:?}");
        }
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
        let unsent = NetError::Unsent {
            to: "127.0.0.1:9".into(),
            queued: 12,
        };
        assert_eq!(
            Lang::Zh.net_error(&unsent),
            "无法发送到 127.0.0.1:9：会话停止时仍有 12 字节在等待发送"
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
