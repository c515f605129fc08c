//! The status bar: the link's state and the counters.
labels! {
    StatusLabels {
        state_closed: "未打开", "Closed";
        state_listening: "正在监听", "Listening";
        state_connected: "已连接", "Connected";
        state_connecting: "正在连接", "Connecting";
        state_bound: "已绑定", "Bound";
        rx: "接收", "RX";
        tx: "发送", "TX";
        dropped: "显示丢弃", "Dropped from view";
        /// After an exact count of bytes.
        bytes: "字节", "bytes";
        reset: "复位计数", "Reset counters";
        missed_ticks: "定时跳过", "Ticks skipped";
        kernel_dropped: "系统丢包", "Kernel dropped";
        tip_rx: "收到的字节总数（精确值，与显示无关）", "Bytes received in all (exact, whatever the view shows)";
        tip_tx: "发送的字节总数", "Bytes sent in all";
        tip_dropped:
            "已收到并计数、但没有显示在接收区的字节：窗口来不及显示的，加上超出接收缓冲被移除的。写文件不受影响。只增不减，直到复位计数",
            "Bytes received and counted but not in the receive view: what the window could not keep up with, plus what fell out of the receive buffer. Receive-to-file gets them all. Only grows until Reset";
        tip_reset: "把接收、发送和显示丢弃计数清零", "Set the RX, TX and dropped counters to zero";
        tip_missed_ticks:
            "定时发送时来不及发出而跳过的次数（不会事后连发补上）",
            "Periodic sends skipped because the sender was late for them (never made up in a burst)";
        tip_kernel_dropped:
            "接收缓冲满时操作系统丢弃的 UDP 数据报个数",
            "UDP datagrams the operating system dropped because the receive buffer was full";
        not_available: "不可用", "not available";
        tip_kernel_dropped_unknown:
            "此系统不为每个套接字统计丢弃的 UDP 数据报，无法得知丢了多少",
            "This system keeps no per-socket count of the UDP datagrams it drops, so how many were lost is unknown";
    }
}
