//! Query parameters of a list request and the `ListResponse` message (RFC 7644 §3.4.2).

use serde_json::{Value, json};

use crate::schema::LIST_RESPONSE;

/// The most resources one page returns, whatever `count` asks for (advertised as
/// `filter.maxResults` in `/ServiceProviderConfig`).
pub const MAX_PAGE_SIZE: usize = 1000;

/// The page size when the client sends no `count`.
pub const DEFAULT_PAGE_SIZE: usize = 100;

/// `startIndex` and `count` after the RFC 7644 §3.4.2.4 rules: a `startIndex` below 1 means 1, a
/// negative `count` means 0, and `count` is clamped to [`MAX_PAGE_SIZE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// 1-based index of the first result.
    pub start_index: usize,
    pub count: usize,
}

impl Page {
    pub fn new(start_index: Option<i64>, count: Option<i64>) -> Page {
        let start_index = start_index.unwrap_or(1).max(1);
        let count = count.map_or(DEFAULT_PAGE_SIZE as i64, |c| c.max(0));
        Page {
            start_index: usize::try_from(start_index).unwrap_or(usize::MAX),
            count: usize::try_from(count)
                .unwrap_or(MAX_PAGE_SIZE)
                .min(MAX_PAGE_SIZE),
        }
    }

    /// The number of results to skip.
    pub fn offset(&self) -> usize {
        self.start_index - 1
    }
}

/// The RFC 7644 §3.4.2 list response.
pub fn list_response(total_results: usize, page: Page, resources: Vec<Value>) -> Value {
    json!({
        "schemas": [LIST_RESPONSE],
        "totalResults": total_results,
        "startIndex": page.start_index,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clamps_start_index_and_count_as_the_rfc_says() {
        assert_eq!(
            Page::new(None, None),
            Page {
                start_index: 1,
                count: 100
            }
        );
        assert_eq!(
            Page::new(Some(-5), Some(-1)),
            Page {
                start_index: 1,
                count: 0
            }
        );
        assert_eq!(
            Page::new(Some(3), Some(1_000_000)),
            Page {
                start_index: 3,
                count: 1000
            }
        );
        assert_eq!(Page::new(Some(3), Some(2)).offset(), 2);
    }

    #[test]
    fn an_empty_result_is_a_list_with_zero_results() {
        let page = Page::new(None, None);
        assert_eq!(
            list_response(0, page, Vec::new()),
            json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
                "totalResults": 0,
                "startIndex": 1,
                "itemsPerPage": 0,
                "Resources": [],
            })
        );
    }
}
