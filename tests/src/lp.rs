//! A small linear-programming attacker for published tables: the bounds an
//! outsider can put on any linear expression of the unknown counts, given
//! equations (published figures) and inequalities (markings), with every
//! count not negative. Dense two-phase simplex with Bland's rule: slow but
//! simple and exact enough for the few hundred unknowns of a test.
//!
//! This is the LP relaxation (tau-Argus' audit): a bound of `[3.0, 3.0]`
//! means the figure is recovered exactly; a bound at least one wide leaves
//! two or more values. It does not search integer solutions, so a bound
//! narrower than one that holds a single integer is reported as pinned.

const EPS: f64 = 1e-9;

/// One constraint: coefficients by variable, relation, right-hand side.
type Row = (Vec<(usize, f64)>, Rel, f64);

/// `sum(coef * x) (=, <=, >=) rhs` over `n` variables, all `>= 0`.
#[derive(Debug, Default, Clone)]
pub struct Lp {
    n: usize,
    rows: Vec<Row>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rel {
    Eq,
    Le,
    Ge,
}

/// The feasible tableau after phase one: rows in canonical form over the
/// original and slack columns, with the basic column of each row.
struct Tableau {
    rows: Vec<Vec<f64>>,
    basis: Vec<usize>,
    width: usize,
}

impl Lp {
    pub fn new(n: usize) -> Self {
        Self {
            n,
            rows: Vec::new(),
        }
    }

    pub fn eq(&mut self, coefs: Vec<(usize, f64)>, rhs: f64) {
        self.rows.push((coefs, Rel::Eq, rhs));
    }

    pub fn le(&mut self, coefs: Vec<(usize, f64)>, rhs: f64) {
        self.rows.push((coefs, Rel::Le, rhs));
    }

    pub fn ge(&mut self, coefs: Vec<(usize, f64)>, rhs: f64) {
        self.rows.push((coefs, Rel::Ge, rhs));
    }

    /// `(min, max)` of each objective over the feasible set; `None` when
    /// the constraints have no solution (the published figures contradict
    /// each other, or the model is wrong). An unbounded side is infinite.
    pub fn bounds(&self, objectives: &[Vec<(usize, f64)>]) -> Option<Vec<(f64, f64)>> {
        let tableau = self.phase_one()?;
        Some(
            objectives
                .iter()
                .map(|c| {
                    let max = tableau.maximise(c);
                    let neg: Vec<(usize, f64)> = c.iter().map(|&(j, v)| (j, -v)).collect();
                    let min = -tableau.maximise(&neg);
                    (min, max)
                })
                .collect(),
        )
    }

    fn phase_one(&self) -> Option<Tableau> {
        let slacks = self.rows.iter().filter(|r| r.1 != Rel::Eq).count();
        let m = self.rows.len();
        let width = self.n + slacks;
        // Columns: variables, slacks, artificials, right-hand side.
        let cols = width + m + 1;
        let mut rows = vec![vec![0.0; cols]; m];
        let mut slack = self.n;
        for (i, (coefs, rel, rhs)) in self.rows.iter().enumerate() {
            let row = &mut rows[i];
            for &(j, v) in coefs {
                row[j] += v;
            }
            match rel {
                Rel::Le => {
                    row[slack] = 1.0;
                    slack += 1;
                }
                Rel::Ge => {
                    row[slack] = -1.0;
                    slack += 1;
                }
                Rel::Eq => {}
            }
            row[cols - 1] = *rhs;
            if *rhs < 0.0 {
                for v in row.iter_mut() {
                    *v = -*v;
                }
            }
            row[width + i] = 1.0;
        }
        let mut t = Tableau {
            rows,
            basis: (width..width + m).collect(),
            width: width + m,
        };
        // Minimise the artificials: maximise their negated sum.
        let objective: Vec<(usize, f64)> = (width..width + m).map(|j| (j, -1.0)).collect();
        let value = t.run(&objective);
        if value < -1e-6 {
            return None;
        }
        // Drive artificials out of the basis; a row with no other entry is
        // redundant and dropped.
        let mut i = 0;
        while i < t.rows.len() {
            if t.basis[i] >= width {
                match (0..width).find(|&j| t.rows[i][j].abs() > EPS) {
                    Some(j) => t.pivot(i, j),
                    None => {
                        t.rows.remove(i);
                        t.basis.remove(i);
                        continue;
                    }
                }
            }
            i += 1;
        }
        for row in &mut t.rows {
            let rhs = row[cols - 1];
            row.truncate(width);
            row.push(rhs);
        }
        t.width = width;
        Some(t)
    }
}

impl Tableau {
    fn rhs(&self, i: usize) -> f64 {
        self.rows[i].last().copied().unwrap_or(0.0)
    }

    fn pivot(&mut self, r: usize, c: usize) {
        let p = self.rows[r][c];
        for v in self.rows[r].iter_mut() {
            *v /= p;
        }
        let pivot_row = self.rows[r].clone();
        for (i, row) in self.rows.iter_mut().enumerate() {
            if i == r {
                continue;
            }
            let f = row[c];
            if f.abs() > EPS {
                for (v, pv) in row.iter_mut().zip(&pivot_row) {
                    *v -= f * pv;
                }
            }
        }
        self.basis[r] = c;
    }

    /// Maximises `c` from the current basis, in place; the optimum, or
    /// infinity when unbounded.
    fn run(&mut self, c: &[(usize, f64)]) -> f64 {
        let mut cost = vec![0.0; self.width];
        for &(j, v) in c {
            if let Some(slot) = cost.get_mut(j) {
                *slot += v;
            }
        }
        loop {
            // Bland's rule: the first column with a positive reduced cost.
            let entering = (0..self.width).find(|&j| {
                let reduced = cost[j]
                    - self
                        .rows
                        .iter()
                        .zip(&self.basis)
                        .map(|(row, &b)| cost[b] * row[j])
                        .sum::<f64>();
                reduced > 1e-9
            });
            let Some(j) = entering else {
                return self
                    .basis
                    .iter()
                    .enumerate()
                    .map(|(i, &b)| cost[b] * self.rhs(i))
                    .sum();
            };
            let mut leaving: Option<(f64, usize, usize)> = None;
            for i in 0..self.rows.len() {
                let a = self.rows[i][j];
                if a > EPS {
                    let ratio = self.rhs(i) / a;
                    let better = match leaving {
                        None => true,
                        Some((r, _, b)) => {
                            ratio < r - EPS || (ratio <= r + EPS && self.basis[i] < b)
                        }
                    };
                    if better {
                        leaving = Some((ratio, i, self.basis[i]));
                    }
                }
            }
            match leaving {
                Some((_, i, _)) => self.pivot(i, j),
                None => return f64::INFINITY,
            }
        }
    }

    fn maximise(&self, c: &[(usize, f64)]) -> f64 {
        let mut t = Tableau {
            rows: self.rows.clone(),
            basis: self.basis.clone(),
            width: self.width,
        };
        t.run(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_of_a_two_by_two_table_with_its_margins() {
        // x0 + x1 = 5, x2 + x3 = 7, x0 + x2 = 6, x1 + x3 = 6: one free
        // parameter, x0 in [0, 5].
        let mut lp = Lp::new(4);
        lp.eq(vec![(0, 1.0), (1, 1.0)], 5.0);
        lp.eq(vec![(2, 1.0), (3, 1.0)], 7.0);
        lp.eq(vec![(0, 1.0), (2, 1.0)], 6.0);
        lp.eq(vec![(1, 1.0), (3, 1.0)], 6.0);
        let b = lp.bounds(&[vec![(0, 1.0)]]).expect("feasible");
        assert!(
            (b[0].0 - 0.0).abs() < 1e-6 && (b[0].1 - 5.0).abs() < 1e-6,
            "{b:?}"
        );
        // Publishing x1 pins x0.
        lp.eq(vec![(1, 1.0)], 2.0);
        let b = lp.bounds(&[vec![(0, 1.0)]]).expect("feasible");
        assert!(
            (b[0].0 - 3.0).abs() < 1e-6 && (b[0].1 - 3.0).abs() < 1e-6,
            "{b:?}"
        );
        // A marking "<5" as two inequalities.
        let mut lp = Lp::new(2);
        lp.eq(vec![(0, 1.0), (1, 1.0)], 9.0);
        lp.le(vec![(0, 1.0)], 4.0);
        lp.ge(vec![(0, 1.0)], 1.0);
        let b = lp.bounds(&[vec![(1, 1.0)]]).expect("feasible");
        assert!(
            (b[0].0 - 5.0).abs() < 1e-6 && (b[0].1 - 8.0).abs() < 1e-6,
            "{b:?}"
        );
        lp.eq(vec![(1, 1.0)], 20.0);
        assert!(lp.bounds(&[]).is_none(), "contradiction");
    }
}
