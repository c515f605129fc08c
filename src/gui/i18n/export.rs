//! Exporting the receive view's history to a file.
labels! {
    ExportLabels {
        export: "导出…", "Export…";
        export_selection: "导出选中…", "Export selection…";
        exporting: "正在导出", "Exporting";
        tip_export:
            "把接收区保留的数据（按当前过滤；有选中的行时只导出选中的行）导出为 TXT、CSV、JSON 行或 pcapng（可用 Wireshark 打开）",
            "Export the kept history (as filtered, or just the selected rows) as TXT, CSV, JSON lines or pcapng for Wireshark";
    }
}
