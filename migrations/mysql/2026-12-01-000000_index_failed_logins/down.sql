DROP INDEX actions_action_date ON actions;
