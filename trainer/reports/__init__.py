"""What HR and instructors read, built without printing: the score sheet's tables, compliance, course and trainee
reports, who is due, and the one certification rule. trainer/export/ writes them as files; trainer/cli/ prints them."""
