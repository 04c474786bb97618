//! Which stripe of a call site's storage the current thread writes to.
//!
//! Each thread claims a stripe index for its lifetime, the same index in every call site,
//! so two threads never write to one cache line and a thread that owns its stripe can
//! update it with a plain load and store instead of a locked read-modify-write. Threads
//! beyond the number of owned stripes share one last stripe, with atomic adds.

use std::cell::Cell;
use std::sync::atomic::Ordering;

use crate::global::{MAX_OWNED_STRIPES, OWNED_STRIPES, STRIPE_CLAIMS};

const UNASSIGNED: usize = usize::MAX;
const SHARED: usize = usize::MAX - 1;

/// Stripes that threads can own: twice the parallelism, so a thread pool of one thread
/// per core and a few more threads all get their own.
pub(crate) fn owned_count() -> usize {
    *OWNED_STRIPES.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(4, |n| n.get());
        (cores * 2).clamp(4, MAX_OWNED_STRIPES)
    })
}

thread_local! {
    /// The stripe this thread writes to. No destructor, so reading it is a plain TLS load
    /// with no registration check, and it stays readable while the thread exits.
    static INDEX: Cell<usize> = const { Cell::new(UNASSIGNED) };
    /// Releases the claim when the thread exits; touched only when claiming.
    static RELEASE: Release = const { Release };
}

/// Gives the thread's owned stripe back when the thread exits, so another thread can own it.
struct Release;

impl Drop for Release {
    fn drop(&mut self) {
        // Calls made later in the thread's exit (from other destructors) share the last stripe.
        let index = INDEX.with(|index| index.replace(SHARED));
        if index < MAX_OWNED_STRIPES {
            // Release: this thread's writes to the stripe happen before the next owner's.
            STRIPE_CLAIMS[index].store(false, Ordering::Release);
        }
    }
}

/// The stripe this thread owns, or `None` if it shares the last stripe with other threads
/// (every owned stripe is taken, or the thread is exiting).
#[inline]
pub(crate) fn current() -> Option<usize> {
    let index = match INDEX.with(Cell::get) {
        UNASSIGNED => claim(),
        index => index,
    };
    (index != SHARED).then_some(index)
}

/// Claims a free stripe for this thread, or the shared one.
#[cold]
fn claim() -> usize {
    let index = (0..owned_count())
        .find(|&i| {
            STRIPE_CLAIMS[i]
                .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
        })
        .unwrap_or(SHARED);
    // Without a release at exit (the thread is already exiting), the claim is given back now.
    if index != SHARED && RELEASE.try_with(|_| ()).is_err() {
        STRIPE_CLAIMS[index].store(false, Ordering::Release);
        INDEX.with(|cell| cell.set(SHARED));
        return SHARED;
    }
    INDEX.with(|cell| cell.set(index));
    index
}

/// Held by the unit tests that claim stripes, which are global to the process.
#[cfg(test)]
pub(crate) static TEST_CLAIMS: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[cfg(test)]
mod tests {
    use super::*;

    /// Two live threads get two different owned stripes. Retried briefly: a thread of an
    /// earlier test may still be running its exit destructors, holding its claim.
    #[test]
    fn concurrent_threads_own_distinct_stripes() {
        let _claims = TEST_CLAIMS.lock().unwrap_or_else(|p| p.into_inner());
        for _ in 0..100 {
            let both = std::sync::Barrier::new(2);
            let (a, b) = std::thread::scope(|s| {
                let a = s.spawn(|| {
                    let index = current();
                    both.wait();
                    (index, current())
                });
                let b = s.spawn(|| {
                    let index = current();
                    both.wait();
                    index
                });
                (a.join().unwrap(), b.join().unwrap())
            });
            if let ((Some(a), again), Some(b)) = (a, b) {
                assert_eq!(again, Some(a), "the claim is kept");
                assert_ne!(a, b);
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        panic!("no two stripes free");
    }

    /// A thread gives its stripe back when it exits. Retried: a thread of another test may
    /// claim the freed stripe between the exit and the check.
    #[test]
    fn an_exiting_thread_releases_its_stripe() {
        let _claims = TEST_CLAIMS.lock().unwrap_or_else(|p| p.into_inner());
        for _ in 0..100 {
            let Some(index) = std::thread::spawn(current).join().unwrap() else {
                continue;
            };
            if !STRIPE_CLAIMS[index].load(Ordering::Acquire) {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        panic!("an exited thread's stripe stayed claimed");
    }
}
