//! Secret names for the entries of a decrypted file.
//!
//! Every mapping key is a name: a top-level key as it is (`api_key`), a
//! nested one joined to its parents with `/` (`database/password`), a list
//! item by its index (`hosts/0`, `hosts/2/name`). A name whose value is a
//! mapping or a list serves the whole of it (a JSON object or array);
//! a `null` value is no name at all. Two entries that come out under the
//! same name (a duplicated key, or a key holding `/` that spells a nested
//! name) make that name ambiguous: it is listed, and reading it is an
//! error that says so. Names the host would refuse (empty, longer than
//! 4 KiB, or holding control characters) are left out.

use std::collections::HashMap;

use crate::tree::{Node, Scalar};

/// The longest name served: the host refuses longer ones.
const MAX_NAME: usize = 4096;

/// Where a name's value is in the decrypted entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Slot {
    /// Indices from the top-level entries down: an entry of a mapping, an
    /// item of a list.
    At(Vec<u32>),
    /// More than one entry has this name.
    Ambiguous(usize),
}

/// The names of one decrypted file.
#[derive(Debug, Default)]
pub(crate) struct Names {
    /// Every name, with where its value is.
    index: HashMap<String, Slot>,
    /// The names in document order (an ambiguous one at its first place).
    order: Vec<String>,
}

impl Names {
    /// The names of `entries`.
    pub(crate) fn build(entries: &[(String, Node)]) -> Names {
        let mut names = Names::default();
        let mut at = Vec::new();
        for (i, (key, node)) in entries.iter().enumerate() {
            at.push(index(i));
            names.visit(Some(key.clone()), node, &mut at);
            at.pop();
        }
        names
    }

    fn visit(&mut self, name: Option<String>, node: &Node, at: &mut Vec<u32>) {
        if matches!(node, Node::Scalar(Scalar::Null)) {
            return;
        }
        if let Some(name) = name.as_deref().filter(|n| servable(n)) {
            match self.index.get_mut(name) {
                Some(Slot::Ambiguous(count)) => *count += 1,
                Some(slot) => *slot = Slot::Ambiguous(2),
                None => {
                    self.index.insert(name.to_owned(), Slot::At(at.clone()));
                    self.order.push(name.to_owned());
                }
            }
        }
        let child = |part: &str| {
            name.as_deref()
                .filter(|n| n.len() + 1 + part.len() <= MAX_NAME)
                .map(|n| format!("{n}/{part}"))
        };
        match node {
            Node::Map(entries) => {
                for (i, (key, value)) in entries.iter().enumerate() {
                    at.push(index(i));
                    self.visit(child(key), value, at);
                    at.pop();
                }
            }
            Node::List(items) => {
                for (i, item) in items.iter().enumerate() {
                    at.push(index(i));
                    self.visit(child(&i.to_string()), item, at);
                    at.pop();
                }
            }
            Node::Scalar(_) => {}
        }
    }

    /// Where `name` is, if it is a name of the file.
    pub(crate) fn get(&self, name: &str) -> Option<&Slot> {
        self.index.get(name)
    }

    /// Every name, in document order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &str> {
        self.order.iter().map(String::as_str)
    }

    /// How many names there are.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.order.len()
    }
}

/// The node at `at` in `entries`, if there is one.
pub(crate) fn node_at<'a>(entries: &'a [(String, Node)], at: &[u32]) -> Option<&'a Node> {
    let (first, rest) = at.split_first()?;
    let mut node = &entries.get(usize::try_from(*first).ok()?)?.1;
    for step in rest {
        let step = usize::try_from(*step).ok()?;
        node = match node {
            Node::Map(entries) => &entries.get(step)?.1,
            Node::List(items) => items.get(step)?,
            Node::Scalar(_) => return None,
        };
    }
    Some(node)
}

/// A position as a slot index (a file cannot hold 4 billion entries under
/// the size cap).
fn index(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

/// Whether the host accepts `name`.
fn servable(name: &str) -> bool {
    !name.is_empty() && name.len() <= MAX_NAME && !name.chars().any(char::is_control)
}

/// The name of the entry at the path `parts` (keys and list indices), for
/// messages: the parts joined with `/`.
pub(crate) fn join_name(parts: &[String]) -> String {
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> Node {
        Node::Scalar(Scalar::Str(text.into()))
    }

    #[test]
    fn nested_keys_and_list_items_have_slash_names() {
        let entries = vec![
            (
                "db".to_owned(),
                Node::Map(vec![("user".into(), s("u")), ("pw".into(), s("p"))]),
            ),
            (
                "hosts".to_owned(),
                Node::List(vec![
                    s("a"),
                    Node::Map(vec![("name".into(), s("b"))]),
                    Node::Scalar(Scalar::Null),
                ]),
            ),
            ("gone".to_owned(), Node::Scalar(Scalar::Null)),
            ("".to_owned(), s("empty key")),
            ("bad\nkey".to_owned(), s("x")),
        ];
        let names = Names::build(&entries);
        assert_eq!(
            names.iter().collect::<Vec<_>>(),
            [
                "db",
                "db/user",
                "db/pw",
                "hosts",
                "hosts/0",
                "hosts/1",
                "hosts/1/name"
            ]
        );
        let Some(Slot::At(at)) = names.get("hosts/1/name") else {
            panic!("a slot");
        };
        assert_eq!(node_at(&entries, at), Some(&s("b")));
        assert_eq!(names.get("gone"), None);
        assert_eq!(names.len(), 7);
    }

    #[test]
    fn names_two_entries_share_are_ambiguous() {
        let entries = vec![
            ("a/b".to_owned(), s("flat")),
            ("a".to_owned(), Node::Map(vec![("b".into(), s("nested"))])),
            ("dup".to_owned(), s("1")),
            ("dup".to_owned(), s("2")),
            ("dup".to_owned(), s("3")),
        ];
        let names = Names::build(&entries);
        assert_eq!(names.get("a/b"), Some(&Slot::Ambiguous(2)));
        assert_eq!(names.get("dup"), Some(&Slot::Ambiguous(3)));
        assert_eq!(names.iter().collect::<Vec<_>>(), ["a/b", "a", "dup"]);
    }

    #[test]
    fn over_long_names_are_left_out_with_their_children() {
        let long = "k".repeat(MAX_NAME);
        let entries = vec![(long.clone(), Node::Map(vec![("child".into(), s("x"))]))];
        let names = Names::build(&entries);
        assert_eq!(names.iter().collect::<Vec<_>>(), [long.as_str()]);
        let longer = vec![(format!("{long}k"), s("x"))];
        assert_eq!(Names::build(&longer).len(), 0);
    }
}
