//! The find bar above the receive view.
use super::Lang;

labels! {
    FindLabels {
        find: "查找", "Find";
        find_text: "文本", "Text";
        find_hex: "十六进制", "Hex";
        find_regex: "正则", "Regex";
        find_next: "下一个", "Next";
        find_previous: "上一个", "Previous";
        tip_find:
            "在接收区保留的全部数据中查找（Ctrl+F）：文本、十六进制字节或正则表达式",
            "Search all the data the receive view keeps (Ctrl+F): text, hex bytes or a regex";
        tip_find_field: "回车：下一个；Shift+回车：上一个；Esc：关闭", "Enter: next; Shift+Enter: previous; Esc: close";
    }
}

impl Lang {
    /// "3 / 17 matches", "searching… 17", "100000+ matches" (the search stopped counting).
    pub fn find_count(self, current: Option<usize>, found: usize, done: bool, capped: bool) -> String {
        let plus = if capped { "+" } else { "" };
        let current = current.map_or(String::new(), |index| format!("{} / ", index + 1));
        match (self, done) {
            (Lang::En, true) => format!("{current}{found}{plus} matches"),
            (Lang::En, false) => format!("{current}{found}… searching"),
            (Lang::Zh, true) => format!("{current}{found}{plus} 个匹配"),
            (Lang::Zh, false) => format!("{current}{found}… 正在查找"),
        }
    }
}
