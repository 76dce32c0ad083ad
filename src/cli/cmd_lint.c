typedef int placeholder_cmd_lint;
