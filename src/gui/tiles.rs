//! A saved tab layout (an egui_tiles tree from the settings file) checked before egui_tiles draws it, and built
//! afresh from what it says: egui_tiles trusts its tree, and a file's tree may hold a cycle, a child that does
//! not exist, a share that is not a number or a grid of a billion columns.
use std::collections::BTreeSet;

use egui_tiles::{Container, GridLayout, Tile, TileId, Tiles, Tree};

use crate::gui::tab::TabId;

/// How deep a saved layout may nest: egui_tiles lays a tree out recursively. The window's own splits go two
/// or three levels deep.
pub(crate) const MAX_LAYOUT_DEPTH: usize = 32;

/// The largest share a split keeps (shares are relative: the window's own are near 1).
const MAX_SHARE: f32 = 1e6;

/// The layout `saved` describes, built afresh (new tile ids; each tab bar's active tab one of its own; shares
/// that are numbers in `(0, MAX_SHARE]`; a grid's columns at most its children), if it is a tree of exactly
/// the tabs `ids`; `None` otherwise. The flag says whether a value had to be changed.
pub(crate) fn rebuild_layout(saved: &Tree<TabId>, ids: &BTreeSet<TabId>) -> Option<(Tree<TabId>, bool)> {
    let panes = layout_panes(saved)?;
    if panes.into_iter().collect::<BTreeSet<_>>() != *ids {
        return None;
    }
    let mut tiles = Tiles::default();
    let mut repaired = false;
    // Recursion is bounded: `layout_panes` checked the depth.
    let root = copy_tile(saved, saved.root()?, &mut tiles, &mut repaired)?;
    Some((Tree::new(egui::Id::unique("wirepad-tabs"), root, tiles), repaired))
}

/// The tabs a saved layout shows, in order, if egui_tiles can draw it: every child exists, no tile is reached
/// twice (as in a container that holds itself, directly or through others, or a tile in two containers), no
/// tab is shown by two panes, and it nests at most `MAX_LAYOUT_DEPTH` deep. `None` otherwise. Iterative: a
/// file's tree never costs stack.
fn layout_panes(tree: &Tree<TabId>) -> Option<Vec<TabId>> {
    let mut seen = std::collections::HashSet::new();
    let mut panes = Vec::new();
    let mut stack = vec![(tree.root()?, 0)];
    while let Some((tile, depth)) = stack.pop() {
        if depth > MAX_LAYOUT_DEPTH || !seen.insert(tile) {
            return None;
        }
        match tree.tiles.get(tile)? {
            Tile::Pane(id) => panes.push(*id),
            Tile::Container(container) => {
                let children: Vec<TileId> = container.children_vec();
                stack.extend(children.into_iter().rev().map(|child| (child, depth + 1)));
            }
        }
    }
    let distinct: BTreeSet<TabId> = panes.iter().copied().collect();
    (distinct.len() == panes.len()).then_some(panes)
}

/// `tile` of `saved` and what it holds, inserted into `tiles` with its values checked.
fn copy_tile(saved: &Tree<TabId>, tile: TileId, tiles: &mut Tiles<TabId>, repaired: &mut bool) -> Option<TileId> {
    let container = match saved.tiles.get(tile)? {
        Tile::Pane(id) => return Some(tiles.insert_pane(*id)),
        Tile::Container(container) => container,
    };
    let children: Vec<(TileId, TileId)> = container
        .children()
        .map(|old| Some((*old, copy_tile(saved, *old, tiles, repaired)?)))
        .collect::<Option<_>>()?;
    let new = |old: TileId| children.iter().find(|(o, _)| *o == old).map(|(_, n)| *n);
    let fresh: Vec<TileId> = children.iter().map(|(_, new)| *new).collect();
    let copied = match container {
        Container::Tabs(tabs) => {
            let active = tabs.active.and_then(new);
            *repaired |= tabs.active.is_some() && active.is_none();
            let mut copy = egui_tiles::Tabs::new(fresh.clone());
            copy.active = active.or(fresh.first().copied());
            Container::Tabs(copy)
        }
        Container::Linear(linear) => {
            let mut copy = egui_tiles::Linear::new(linear.dir, fresh);
            for (old, new) in &children {
                let share = linear.shares[*old];
                let sound = share > 0.0 && share <= MAX_SHARE;
                *repaired |= !sound;
                copy.shares.set_share(*new, if sound { share } else { 1.0 });
            }
            Container::Linear(copy)
        }
        Container::Grid(grid) => {
            let mut copy = egui_tiles::Grid::new(fresh.clone());
            copy.layout = match grid.layout {
                GridLayout::Columns(n) if n == 0 || n > fresh.len() => {
                    *repaired = true;
                    GridLayout::Auto
                }
                layout => layout,
            };
            for (kept, shares) in [
                (&mut copy.col_shares, &grid.col_shares),
                (&mut copy.row_shares, &grid.row_shares),
            ] {
                let sound = shares.len() <= fresh.len() && shares.iter().all(|s| *s > 0.0 && *s <= MAX_SHARE);
                *repaired |= !sound;
                if sound {
                    kept.clone_from(shares);
                }
            }
            Container::Grid(copy)
        }
    };
    Some(tiles.insert_container(copied))
}
