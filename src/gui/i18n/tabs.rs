//! The toolbar and the tab bars: new, duplicate, side by side, rename and close a tab, and the
//! language.
labels! {
    TabsLabels {
        new_tab: "新建标签", "New tab";
        duplicate_tab: "复制标签", "Duplicate";
        split_tab: "并排显示", "Side by side";
        close_tab: "关闭标签", "Close tab";
        rename_tab: "重命名", "Rename";
        tab_name: "标签名", "Tab name";
        confirm_quit:
            "还有 {n} 个会话处于打开状态。退出会断开它们。",
            "Sessions still open: {n}. Quitting closes them.";
        quit: "退出", "Quit";
        keep_open: "不退出", "Keep open";
        confirm_close_tab: "该标签的会话仍在运行。关闭标签会断开它。", "This tab's session is still open. Closing the tab closes it.";
        keep_tab: "保留", "Keep";
        tip_new_tab: "新建一个会话标签（Ctrl+T）", "Open another session in a new tab (Ctrl+T)";
        tip_duplicate_tab: "以当前标签的设置新建一个标签", "A new tab with this tab's settings";
        tip_split_tab: "把当前标签移到右侧，与其他标签并排显示；拖动标签也可以", "Show this tab beside the others (or drag a tab to a side)";
        tip_close_tab: "关闭当前标签（Ctrl+W）", "Close this tab (Ctrl+W)";
        tip_language: "界面语言", "The window's language";
    }
}
