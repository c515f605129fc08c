//! Buttons and messages of the window's small dialogs and notices.
labels! {
    DialogsLabels {
        ok: "确定", "OK";
        cancel: "取消", "Cancel";
        dismiss: "知道了", "Dismiss";
        path: "路径", "Path";
        file_dialog_busy: "已有一个文件对话框打开", "A file dialog is already open";
    }
}
