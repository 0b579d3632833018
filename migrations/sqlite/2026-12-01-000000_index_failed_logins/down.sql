DROP INDEX actions_action_date;
