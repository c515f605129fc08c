//! Words more than one panel uses, translated once so they read the same everywhere.
labels! {
    CommonLabels {
        none: "无", "None";
        checksum: "附加校验", "Checksum";
        name: "名称", "Name";
        delete: "删除", "Delete";
        close: "关闭", "Close";
        connecting: "连接中…", "Connecting…";
        all_peers: "全部", "All";
        text: "文本", "Text";
        hex: "HEX", "Hex";
        move_up: "上移", "Up";
        move_down: "下移", "Down";
        import_toml: "导入 TOML…", "Import TOML…";
        export_toml: "导出 TOML…", "Export TOML…";
    }
}
