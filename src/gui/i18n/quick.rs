//! The quick commands list beside the receive view.
labels! {
    QuickLabels {
        quick_commands: "快捷指令", "Quick commands";
        add: "添加", "Add";
        edit: "编辑", "Edit";
        done: "完成", "Done";
        tip_quick_add: "添加一条快捷指令", "Add a quick command";
        tip_quick_edit: "编辑或删除这条快捷指令", "Edit or delete this quick command";
    }
}
