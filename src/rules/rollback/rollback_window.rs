//! `rollback-window`: an image-only rollback from the head must reach at least
//! `[rollback] min_window` releases back.

use crate::rules::{Context, Finding, Rule};

pub struct RollbackWindow;

impl Rule for RollbackWindow {
    fn id(&self) -> &'static str {
        "rollback-window"
    }

    fn check(&self, ctx: &Context<'_>, findings: &mut Vec<Finding>) {
        let releases = ctx.releases;
        let required = ctx.settings.min_window.min(releases.len());
        // Newest first: the window is the run of safe releases from the newest.
        let reach = releases.iter().take_while(|r| r.breaks.is_empty()).count();
        if reach >= required {
            return;
        }
        let release = &releases[reach];
        let first = &release.breaks[0];
        findings.push(Finding {
            rule: self.id(),
            severity: None,
            message: format!(
                "an image-only rollback reaches {reach} release(s) back, fewer than \
                 min_window = {}: rolling back to {} breaks, because this deploy {}",
                ctx.settings.min_window, release.release, first.message
            ),
            path: first.path.clone(),
            span: first.span.clone(),
            migration: first.migration.clone(),
            object: first.object.clone(),
            evidence: first.evidence.clone(),
        });
    }
}
