//! The throughput plot above the receive view.
labels! {
    PlotLabels {
        plot: "流量图", "Plot";
        plot_rx: "接收 字节/秒", "RX bytes/s";
        plot_tx: "发送 字节/秒", "TX bytes/s";
        plot_messages: "消息/秒", "messages/s";
        plot_seconds: "秒", "s";
        tip_plot:
            "最近 5 分钟每秒的接收和发送字节数（引擎的精确计数）",
            "Bytes received and sent per second over the last 5 minutes (the engine's exact counters)";
    }
}
