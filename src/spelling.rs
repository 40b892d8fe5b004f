//! How close a mistyped name is to a real one, for "did you mean" suggestions and for telling
//! a typo from a name that lives outside the migrations.

/// The edit distance between `a` and `b` in characters, a swap of two neighbours counting
/// as one edit (`mian` is one edit from `main`): how close a mistyped name is to a real
/// one, for "did you mean" suggestions.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    d[0] = (0..=b.len()).collect();
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::edit_distance;

    #[test]
    fn a_swap_of_neighbours_is_one_edit() {
        assert_eq!(edit_distance("mian", "main"), 1);
        assert_eq!(edit_distance("main", "main"), 0);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("develop", "main"), 7);
    }
}
