//! The receive settings in the left column and the receive view: how data is shown, where it is
//! written, and the rows picked in it.
labels! {
    ReceiveLabels {
        receive_settings: "接收设置", "Receive settings";
        hex_view: "HEX显示", "Hex view";
        encoding: "文本编码", "Encoding";
        log_mode: "日志模式显示", "Log mode";
        show_sent: "显示发送", "Show sent";
        wrap: "自动换行", "Wrap";
        pause: "暂停接收显示", "Pause view";
        receive_to_file: "接收转向文件…", "Receive to file…";
        stop_file: "停止写文件", "Stop file";
        capture_pcap: "抓包到 pcap…", "Capture to pcap…";
        stop_pcap: "停止抓包", "Stop pcap";
        clear: "清除接收", "Clear";
        save_view: "保存数据…", "Save view…";
        copy_all: "复制全部", "Copy all";
        buffer_mib: "接收缓冲", "View buffer";
        buffer_shared: "共享", "shared";
        receiving_to: "正在写入", "Writing to";
        pcap_to: "正在抓包到", "Capturing to";
        paused: "已暂停显示 (计数和写文件照常)", "View paused (counters and file go on)";
        note_connected: "已连接", "connected";
        note_disconnected: "已断开", "disconnected";
        filter: "筛选", "Filter";
        select_row: "选择行", "Select row";
        rows_selected: "已选行数：", "Rows selected:";
        clear_selection: "取消选择", "Clear selection";
        save_selection: "保存选中…", "Save selection…";
        copy_selection: "复制选中", "Copy selection";
        tip_hex_view: "以十六进制显示接收区（已收到的数据也重新显示）", "Show the receive view as hex (what is already there is shown again)";
        tip_log_mode: "每块数据前显示时间和对方地址", "A time and peer header before each chunk of data";
        tip_show_sent: "在接收区中也显示发送的数据（蓝色）", "Show sent data in the receive view too (blue)";
        tip_wrap: "长行在窗口宽度处换行", "Wrap long lines at the pane's width";
        tip_encoding: "接收和发送文本所用的编码（十六进制不受影响）", "The encoding of received and sent text (hex is not affected)";
        tip_buffer:
            "本标签页接收区最多保留的数据量，1–4096 MiB；0（共享）：只受所有标签页共用的缓冲限制（默认 256 MiB，忙的和最近看过的标签页分得多）。超出时丢弃最早的数据并计入“显示丢弃”",
            "The most this tab's receive view keeps, 1–4096 MiB; 0 (shared): only its share of the buffer all tabs share (256 MiB by default; busy and lately viewed tabs get more). The oldest data beyond it is dropped and counted in \"dropped from view\"";
        tip_pause: "暂停显示新数据；计数、写文件和自动处理照常进行", "Stop showing new data; counters, receive-to-file and automation go on";
        tip_receive_to_file:
            "把收到的每个字节原样写入文件（不受显示缓冲限制）",
            "Write every received byte, raw, to a file (not limited by the view's buffer)";
        tip_stop_file: "停止写入接收文件", "Stop writing the receive file";
        tip_capture_pcap:
            "把收发的每个字节写成 pcapng（可用 Wireshark 打开），边收发边写，不受显示缓冲限制",
            "Write every byte received and sent as pcapng for Wireshark, as it happens (not limited by the view's buffer)";
        tip_stop_pcap:
            "结束 pcap 文件（仍打开的 TCP 连接以 FIN 收尾）",
            "Finish the pcap file (TCP connections still open end with FIN in it)";
        tip_clear: "清空接收区（计数不变）。快捷键 Ctrl+L", "Empty the receive view (the counters stay). Shortcut: Ctrl+L";
        tip_save_view:
            "把接收区的内容（有选中的行时只保存选中的行）按显示的样子保存为文本文件",
            "Save the receive view (or just its selected rows), as shown, to a text file";
        tip_copy_all:
            "把接收区的全部内容（有选中的行时只复制选中的行）复制到剪贴板",
            "Copy the whole receive view (or just its selected rows) to the clipboard";
        tip_filter: "只显示这个对方的数据", "Show only this peer's data";
        tip_select_row:
            "单击选中此行，Shift+单击选中一段；之后保存、复制和导出只处理选中的行。Esc 取消选择",
            "Click to select this row, Shift+click to select a range; Save, Copy and Export then take only \
            the selected rows. Esc clears the selection";
    }
}
