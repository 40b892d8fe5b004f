//! One run of `rollsafe check`: wires source, layout, sql, replay, rules and report together.
