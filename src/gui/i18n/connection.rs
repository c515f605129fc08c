//! The connection section at the top of the left column: the mode, the addresses, Open and Close,
//! and what is wrong with a field.
labels! {
    ConnectionLabels {
        connection: "通信设置", "Connection";
        mode: "协议类型", "Mode";
        local_ip: "本地主机地址", "Local IP";
        local_port: "本地主机端口", "Local port";
        remote_host: "远程主机地址", "Remote host";
        remote_port: "远程主机端口", "Remote port";
        follow_peer: "目的地址随对方变化", "Reply to last sender";
        broadcast: "允许广播", "Allow broadcast";
        multicast: "加入组播", "Multicast group";
        reconnect: "自动重连", "Auto-reconnect";
        open: "打开", "Open";
        opening: "正在打开…", "Opening…";
        reconnecting: "将在 {} 后重连", "Reconnecting in {}";
        bad_port: "端口须为 0–65535 的整数", "Port must be a whole number 0–65535";
        bad_remote_port: "远程端口须为 1–65535 的整数", "Remote port must be a whole number 1–65535";
        bad_ip: "不是有效的 IP 地址", "Not a valid IP address";
        bad_host: "请输入主机名或 IP 地址", "Enter a host name or IP address";
        bad_group: "不是组播地址 (224.0.0.0/4 或 ff00::/8)", "Not a multicast address (224.0.0.0/4 or ff00::/8)";
        bad_number: "请输入整数", "Enter a whole number";
        tip_mode:
            "TCP 服务器：在本地端口监听，等待客户端连接\nTCP 客户端：连接远程主机\nUDP：收发数据报",
            "TCP server: listen on the local port for clients\nTCP client: connect to the remote host\nUDP: send and receive datagrams";
        tip_local_ip:
            "本机要使用的地址。0.0.0.0 = 所有 IPv4 地址，:: = 所有 IPv6 地址；点 … 选择本机网卡地址",
            "The address on this machine to use. 0.0.0.0 = every IPv4 address, :: = every IPv6 address; … lists this machine's addresses";
        tip_local_port:
            "本地端口，0–65535。0 = 由系统分配。每种协议类型各自记住自己的端口",
            "Local port, 0–65535. 0 = any free port. Each mode remembers its own";
        tip_local_port_client:
            "客户端的本地端口，0–65535。默认 0 = 由系统分配（与 NetAssist 相同）；只有设备要求固定源端口时才需要填写",
            "The client's own port, 0–65535. 0 (the default) = any free port, as NetAssist does; set one only if the peer needs a fixed source port";
        tip_remote_host:
            "对方的 IP 地址或主机名；点 … 选择用过的地址",
            "The peer's IP address or host name; … lists the ones used before";
        tip_remote_port: "对方的端口，1–65535", "The peer's port, 1–65535";
        tip_follow_peer: "收到数据后，发送目标改为最后一个发来数据的地址", "After data arrives, replies go to whoever sent last";
        tip_broadcast: "允许发送到广播地址（如 255.255.255.255）", "Allow sending to broadcast addresses (such as 255.255.255.255)";
        tip_multicast:
            "要加入的组播组，如 239.1.2.3 或 ff12::1%网卡序号；留空则不加入",
            "A multicast group to join, e.g. 239.1.2.3 or ff12::1%interface; empty = none";
        tip_reconnect:
            "连接断开或失败后自动重连（间隔逐渐加长，最长 5 秒）",
            "Connect again after the connection fails or drops (backing off to at most 5 s)";
        tip_open: "按上面的设置打开连接", "Open the session with the settings above";
        tip_close: "关闭连接（计数保留，直到复位计数）", "Close the session (the counters stay until Reset)";
    }
}
