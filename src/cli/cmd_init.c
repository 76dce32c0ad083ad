typedef int placeholder_cmd_init;
