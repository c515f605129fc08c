//! TLS: the settings block in the connection section, the "make a certificate" button, and the certificate panel.
labels! {
    TlsLabels {
        tls: "TLS 加密", "TLS";
        tls_listen: "监听端 TLS 加密", "TLS on the listen side";
        tls_upstream: "到上游的 TLS 加密", "TLS to the upstream";
        tip_tls:
            "用 TLS（1.2/1.3）加密这个连接；连接后点状态栏的 TLS 按钮查看证书",
            "Speak TLS (1.2/1.3) on this connection; once connected, click TLS in the status bar to see the certificates";
        cert: "证书", "Certificate";
        key: "私钥", "Key";
        hint_self_signed: "留空：打开时自动生成自签名证书", "Empty: a self-signed certificate is made at Open";
        make_cert: "生成自签名证书…", "Make a self-signed certificate…";
        tip_make_cert:
            "选择保存位置，写出 名称.crt 和 名称.key（PEM，与 wirepad cert new 相同），并填入上面的证书和私钥",
            "Choose where to save it: writes NAME.crt and NAME.key (PEM, as wirepad cert new does) and fills in the certificate and key";
        made_cert: "已生成", "Made";
        fingerprint: "SHA-256 指纹", "SHA-256 fingerprint";
        advanced: "高级", "Advanced";
        require_client_cert: "要求客户端证书", "Require client certificate";
        tip_require_client_cert:
            "拒绝没有出示证书、或证书不能由下面的 CA 验证的客户端",
            "Refuse clients without a certificate that verifies against the CA below";
        client_ca: "客户端 CA", "Client CA";
        verify: "验证证书", "Verify";
        verify_warn: "警告", "warn";
        verify_strict: "严格", "strict";
        verify_off: "不验证", "off";
        tip_verify:
            "警告：照常连接，但明确说出哪里没通过验证\n严格：证书不能验证就断开\n不验证：不检查证书",
            "warn: connect, and say plainly what failed to verify\nstrict: refuse a certificate that does not verify\noff: do not check it";
        ca: "信任的 CA", "Trusted CA";
        hint_system_store: "留空：使用系统证书库", "Empty: the system's certificate store";
        sni: "SNI 名称", "SNI name";
        tip_sni: "发送并验证的服务器名；留空则用远程主机地址", "The server name sent and verified; empty: the remote host";
        no_sni: "不发送 SNI", "Send no SNI";
        alpn: "ALPN", "ALPN";
        tip_alpn: "要协商的协议，用逗号分隔，如 h2,http/1.1", "Protocols to negotiate, comma-separated: h2,http/1.1";
        client_cert: "客户端证书", "Client certificate";
        client_key: "客户端私钥", "Client key";
        versions: "TLS 版本", "TLS versions";
        choose_file: "选择文件", "Choose a file";
        bad_half_pair: "证书和私钥须同时给出", "Give both the certificate and its key";
        bad_needs_ca: "要求客户端证书时须给出客户端 CA", "Requiring client certificates needs a client CA";
        bad_server_name: "不是有效的服务器名", "Not a valid server name";
        bad_alpn: "每个协议 1–255 字节，用逗号分隔", "Each protocol 1–255 bytes, comma-separated";
        // The certificate panel.
        certificates: "证书", "Certificates";
        tip_indicator: "显示或隐藏证书面板", "Show or hide the certificate panel";
        no_handshake: "尚未握手", "No handshake yet";
        failed: "TLS 失败", "TLS failed";
        presented: "本服务器出示的证书", "This server presents";
        made_at_start: "打开时生成的自签名证书", "self-signed, made at Open";
        client: "客户端", "Client";
        client_leg: "与客户端的 TLS", "TLS with the client";
        upstream_leg: "与上游的 TLS", "TLS with the upstream";
        suite: "密码套件", "Cipher suite";
        no_alpn: "无 ALPN", "no ALPN";
        verified: "已验证", "verified";
        not_verified: "未通过验证", "not verified";
        not_checked: "未检查（不验证）", "not checked (verify off)";
        no_client_cert: "该客户端没有出示证书", "this client sent no certificate";
        no_certificate: "无客户端证书", "no client certificate";
        subject: "主体", "Subject";
        issuer: "颁发者", "Issuer";
        san: "备用名称", "SAN";
        not_before: "生效", "Not before";
        not_after: "到期", "Not after";
        recent_failures: "最近失败的握手", "Failed handshakes";
        last_failure: "最近一次失败", "Last failure";
    }
}
