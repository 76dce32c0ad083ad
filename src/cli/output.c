typedef int placeholder_output;
