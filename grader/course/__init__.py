"""Course repositories: scaffold a course (`init`) and new exercises (`new`) that validate.

It writes files from the skeletons beside this module; it never grades (that is
`grading.validate`, which `grader validate` calls).
"""

from grader.course.scaffold import FAMILIES, ScaffoldError, init_course, new_exercise

__all__ = ["FAMILIES", "ScaffoldError", "init_course", "new_exercise"]
