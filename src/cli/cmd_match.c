typedef int placeholder_cmd_match;
