"""The audit trail's fixed vocabulary of actions (trainer/store/audit.py writes and reads them).

Apart from audit.py so that the CLI can offer them in `trainer audit list --action` without importing SQLAlchemy.
"""

SESSION_VOID = "session.void"
LABEL_SET = "label.set"
LABEL_IMPORT = "label.import"
SCORE_MODEL = "score.model"  # `trainer score --model FILE|rubric`: a model other than the current one
SCORE_RESCORE = "score.rescore"  # `trainer score` with the current model
SCORE_REPAIR = "score.repair"  # a finished session found without a score, scored when a command opened the store
DB_RESTORE = "db.restore"
LOGIN_OK = "instructor.login_ok"
LOGIN_FAILED = "instructor.login_failed"
LOGIN_REFUSED = "instructor.login_refused"  # an attempt made before the wait was over: refused unchecked
PASSWORD_SET = "instructor.password_set"
PASSWORD_RESET = "instructor.password_reset"
TRAINEE_IMPORT = "trainee.import"  # `trainer trainees import`: one row per trainee created or changed
TRAINEE_EDIT = "trainee.edit"
TRAINEE_MERGE = "trainee.merge"
REQUIREMENTS_LOAD = "requirements.load"
SETTING_SET = "setting.set"  # `trainer db set KEY VALUE`: a site setting changed (old and new value)
ACTIONS = (
    SESSION_VOID,
    LABEL_SET,
    LABEL_IMPORT,
    SCORE_MODEL,
    SCORE_RESCORE,
    SCORE_REPAIR,
    DB_RESTORE,
    LOGIN_OK,
    LOGIN_FAILED,
    LOGIN_REFUSED,
    PASSWORD_SET,
    PASSWORD_RESET,
    TRAINEE_IMPORT,
    TRAINEE_EDIT,
    TRAINEE_MERGE,
    REQUIREMENTS_LOAD,
    SETTING_SET,
)
