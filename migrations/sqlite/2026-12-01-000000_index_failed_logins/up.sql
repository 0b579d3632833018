-- Failed logins of the last window are counted on every one (brute-force limits shared by all
-- instances): an index keeps that a range scan of recent failures, however large MOR's log.
CREATE INDEX actions_action_date ON actions (action, date);
