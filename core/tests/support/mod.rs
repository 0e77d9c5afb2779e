//! Checks shared by the engine's test files.

use group_identity::Preview;

/// The invariants every preview keeps: the stats add up and agree with the lists, which
/// stop at `max_listed`.
pub fn check_stats(p: &Preview, max_listed: usize) {
    let s = &p.stats;
    assert_eq!(
        s.profiles,
        s.no_key + s.short_key + s.singletons + s.grouped_profiles + s.oversized_profiles,
        "{s:?}"
    );
    assert_eq!(s.groups, p.groups.len() as u64);
    assert_eq!(s.oversized_groups, p.oversized.len() as u64);
    let members: usize = p.groups.iter().map(|g| g.members.len()).sum();
    assert_eq!(s.grouped_profiles, members as u64);
    for g in &p.groups {
        assert!((2..=10).contains(&g.members.len()), "group {:?}", g.key);
    }
    let oversized: u64 = p.oversized.iter().map(|o| o.size).sum();
    assert_eq!(s.oversized_profiles, oversized);
    assert!(p.oversized.iter().all(|o| o.size > 10));
    // Listed up to `maxListed`, and counted in full.
    let max = max_listed as u64;
    assert_eq!(p.singletons.len() as u64, s.singletons.min(max));
    let listed = p.short_keys.len() as u64;
    assert_eq!(listed, p.distinct_short_keys.min(max));
    assert!(listed <= p.distinct_short_keys && p.distinct_short_keys <= s.short_key);
    let short: u64 = p.short_keys.iter().map(|k| k.count).sum();
    assert!(short <= s.short_key);
    if listed == p.distinct_short_keys {
        assert_eq!(short, s.short_key);
    }
}
