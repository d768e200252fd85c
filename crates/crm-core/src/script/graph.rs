//! Graph walks over a script's steps (indices, with successor lists): reachability forward
//! and backward, and which nodes lie on a cycle (strongly connected components, Kosaraju,
//! iterative so a 1,000-step chain does not deepen the stack).

/// Nodes reachable from `start` (itself included).
pub(super) fn reachable_from(start: usize, adj: &[Vec<usize>]) -> Vec<bool> {
    let mut seen = vec![false; adj.len()];
    let mut stack = vec![start];
    seen[start] = true;
    while let Some(n) = stack.pop() {
        for &m in &adj[n] {
            if !seen[m] {
                seen[m] = true;
                stack.push(m);
            }
        }
    }
    seen
}

/// Nodes from which some node of `targets` is reachable (the targets included).
pub(super) fn reaching(targets: &[bool], adj: &[Vec<usize>]) -> Vec<bool> {
    let mut rev = vec![Vec::new(); adj.len()];
    for (n, succ) in adj.iter().enumerate() {
        for &m in succ {
            rev[m].push(n);
        }
    }
    let mut seen = targets.to_vec();
    let mut stack: Vec<usize> = (0..adj.len()).filter(|&n| targets[n]).collect();
    while let Some(n) = stack.pop() {
        for &m in &rev[n] {
            if !seen[m] {
                seen[m] = true;
                stack.push(m);
            }
        }
    }
    seen
}

/// For each node of the subgraph `within` (edges between its nodes only): whether it lies on
/// a cycle (a component of two nodes or more, or a loop on itself).
pub(super) fn on_cycle(adj: &[Vec<usize>], within: &[bool]) -> Vec<bool> {
    let n = adj.len();
    let edges = |v: usize| adj[v].iter().copied().filter(move |&w| within[w]);
    // First pass: nodes in order of finishing.
    let mut order = Vec::with_capacity(n);
    let mut visited = vec![false; n];
    for root in (0..n).filter(|&v| within[v]) {
        if visited[root] {
            continue;
        }
        visited[root] = true;
        let mut stack = vec![(root, 0usize)];
        while let Some(top) = stack.last_mut() {
            let (v, i) = *top;
            top.1 += 1;
            match edges(v).nth(i) {
                Some(w) if !visited[w] => {
                    visited[w] = true;
                    stack.push((w, 0));
                }
                Some(_) => {}
                None => {
                    order.push(v);
                    stack.pop();
                }
            }
        }
    }
    // Second pass, on the reversed edges, in reverse finishing order: one component each.
    let mut rev = vec![Vec::new(); n];
    for v in (0..n).filter(|&v| within[v]) {
        for w in edges(v) {
            rev[w].push(v);
        }
    }
    let mut component = vec![usize::MAX; n];
    let mut sizes = Vec::new();
    for &root in order.iter().rev() {
        if component[root] != usize::MAX {
            continue;
        }
        let id = sizes.len();
        let mut size = 0;
        let mut stack = vec![root];
        component[root] = id;
        while let Some(v) = stack.pop() {
            size += 1;
            for &w in &rev[v] {
                if component[w] == usize::MAX {
                    component[w] = id;
                    stack.push(w);
                }
            }
        }
        sizes.push(size);
    }
    (0..n).map(|v| within[v] && (sizes[component[v]] > 1 || adj[v].contains(&v))).collect()
}
