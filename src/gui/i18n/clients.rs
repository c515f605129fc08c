//! The TCP server's client table beside the receive view.
labels! {
    ClientsLabels {
        clients: "客户端", "Clients";
        send_to: "发送给", "Send to";
        all_clients: "所有连接", "All clients";
        kick: "断开", "Kick";
        since: "连接时间", "Since";
        address: "地址", "Address";
        client_rx: "↓ 接收", "↓ RX";
        client_tx: "↑ 发送", "↑ TX";
        tip_send_to: "服务器模式下发送给所有客户端或其中一个", "In server mode, send to every client or one of them";
        tip_kick: "断开这个客户端", "Disconnect this client";
    }
}
