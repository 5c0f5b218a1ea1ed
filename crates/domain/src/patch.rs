//! JSON Merge Patch (RFC 7396): the diff that turns one view into the next, applying a
//! patch, and composing two patches into one (for a client that fell behind).
//! Views never hold `null`, so a `null` in a patch always means "removed".

use serde_json::{Map, Value};

/// The merge patch that turns `old` into `new`; `None` when they are equal.
pub fn diff(old: &Value, new: &Value) -> Option<Value> {
    match (old, new) {
        (Value::Object(o), Value::Object(n)) => {
            let mut patch = Map::new();
            for (k, ov) in o {
                match n.get(k) {
                    None => {
                        patch.insert(k.clone(), Value::Null);
                    }
                    Some(nv) => {
                        if let Some(p) = diff(ov, nv) {
                            patch.insert(k.clone(), p);
                        }
                    }
                }
            }
            for (k, nv) in n {
                if !o.contains_key(k) {
                    patch.insert(k.clone(), nv.clone());
                }
            }
            (!patch.is_empty()).then_some(Value::Object(patch))
        }
        (o, n) if o == n => None,
        (_, n) => Some(n.clone()),
    }
}

/// About how many bytes a value takes as JSON (keys and strings by their length, other
/// values by a few bytes): what the gateway's history counts.
pub fn weight(value: &Value) -> usize {
    match value {
        Value::Object(members) => 2 + members.iter().map(|(k, v)| k.len() + 4 + weight(v)).sum::<usize>(),
        Value::Array(items) => 2 + items.iter().map(|v| weight(v) + 1).sum::<usize>(),
        Value::String(s) => s.len() + 2,
        _ => 8,
    }
}

/// Applies `patch` to `target` in place.
pub fn apply(target: &mut Value, patch: &Value) {
    let Value::Object(p) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(t) = target {
        for (k, v) in p {
            if v.is_null() {
                t.remove(k);
            } else {
                apply(t.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
    }
}

/// Whether one merge patch can say what `first` then `second` say. It cannot when
/// `first` removes or replaces a value (a key, or the whole) that `second` makes an object
/// again: an object patch merges into what was there before `first`, so the combined
/// patch would bring back the old value's fields.
pub fn composable(first: &Value, second: &Value) -> bool {
    match (first, second) {
        (Value::Object(f), Value::Object(s)) => s.iter().all(|(k, sv)| match (f.get(k), sv) {
            (Some(fv @ Value::Object(_)), Value::Object(_)) => composable(fv, sv),
            (Some(_), Value::Object(_)) => false,
            _ => true,
        }),
        (_, Value::Object(_)) => false,
        _ => true,
    }
}

/// Folds `second` into `first`, giving one patch with the effect of both; only for
/// patches that are [`composable`].
pub fn compose(first: &mut Value, second: &Value) {
    match (first, second) {
        (Value::Object(f), Value::Object(s)) => {
            for (k, sv) in s {
                match f.get_mut(k) {
                    Some(fv @ Value::Object(_)) if sv.is_object() => compose(fv, sv),
                    _ => {
                        f.insert(k.clone(), sv.clone());
                    }
                }
            }
        }
        (f, s) => *f = s.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn diff_then_apply_gives_the_new_value() {
        let old = json!({"a": 1, "b": {"c": 2, "d": 3}, "e": [1]});
        let new = json!({"a": 1, "b": {"c": 4}, "e": [2], "f": "x"});
        let p = diff(&old, &new).unwrap_or_default();
        assert_eq!(p, json!({"b": {"c": 4, "d": null}, "e": [2], "f": "x"}));
        let mut t = old.clone();
        apply(&mut t, &p);
        assert_eq!(t, new);
        assert_eq!(diff(&new, &new), None);
    }

    #[test]
    fn composed_patches_equal_applying_both() {
        let v0 = json!({"a": {"x": 1}, "b": 2, "d": [1]});
        let v1 = json!({"a": {"x": 2}, "b": 3, "c": {"y": 1}, "d": 5});
        let v2 = json!({"a": {"z": 9}, "b": 3, "c": {"y": 2, "w": 1}, "d": [2]});
        let mut p = diff(&v0, &v1).unwrap_or_default();
        let second = diff(&v1, &v2).unwrap_or_default();
        assert!(composable(&p, &second));
        compose(&mut p, &second);
        let mut t = v0.clone();
        apply(&mut t, &p);
        assert_eq!(t, v2);
    }

    #[test]
    fn removal_then_return_as_object_is_not_composable() {
        let v0 = json!({"a": {"x": 1}});
        let v1 = json!({});
        let v2 = json!({"a": {"z": 9}});
        let first = diff(&v0, &v1).unwrap_or_default();
        let second = diff(&v1, &v2).unwrap_or_default();
        assert!(!composable(&first, &second));
    }

    /// Found by the merge-patch fuzz target: a value replaced by a scalar, then made an
    /// object again, at a key or as the whole.
    #[test]
    fn replaced_then_made_an_object_again_is_not_composable() {
        for (v0, v1, v2) in [
            (json!({"k": {"a": "y"}}), json!({"k": "y"}), json!({"k": {}})),
            (json!({"a": "y"}), json!("y"), json!({})),
        ] {
            let first = diff(&v0, &v1).unwrap_or_default();
            let second = diff(&v1, &v2).unwrap_or_default();
            assert!(!composable(&first, &second), "{v0} → {v1} → {v2}");
        }
    }
}
