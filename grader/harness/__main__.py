from grader.harness.runner import entry

entry()
