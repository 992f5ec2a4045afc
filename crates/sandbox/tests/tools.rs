//! The SWE-agent tools in a real task container (environment `minicalc`) and in the fake
//! sandbox. Expected observations are written out by hand from SWE-agent's formats.
//! Needs the environment images: `bash scripts/setup.sh` (or `srl-swe sandbox build`).
use srl_core::Action;
use srl_sandbox::environments::load_environments;
use srl_sandbox::tools::{SweTools, EMPTY_OUTPUT};
use srl_sandbox::{start_task, FakeSandbox, Sandbox, SandboxConfig, TaskEnv};
use std::path::PathBuf;
use std::time::Duration;

async fn minicalc_task() -> TaskEnv<srl_sandbox::DockerSandbox> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../environments");
    let envs = load_environments(&root).expect("environments/");
    let env = envs.iter().find(|e| e.name == "minicalc").expect("environments/minicalc");
    let inst = env.instances.iter().find(|i| i.instance_id.contains("func_pm_remove_cond")).expect("modulo task");
    let cfg = SandboxConfig { run_id: Some(format!("tools-tests-{}", std::process::id())), ..SandboxConfig::default() };
    match start_task(inst, &cfg).await {
        Ok(t) => t,
        Err(e) => panic!("{e}\n(the tool tests need Docker and the environment images: run bash scripts/setup.sh or `srl-swe sandbox build`)"),
    }
}

fn bash(cmd: &str) -> Action {
    Action::new("bash", [("command", cmd)])
}

fn editor(params: &[(&str, &str)]) -> Action {
    Action::new("str_replace_editor", params.iter().copied()).validated().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bash_session_keeps_cwd_and_exports_and_refuses_interactive_commands() {
    let task = minicalc_task().await;
    let mut tools = SweTools::new(&task.sandbox, &task.base_sha).with_bash_timeout(Duration::from_secs(2));
    assert_eq!(
        tools.execute(&bash("cd minicalc && export GREETING='hello world'")).await.unwrap().observation,
        EMPTY_OUTPUT
    );
    let out = tools.execute(&bash("pwd; echo $GREETING")).await.unwrap();
    assert_eq!(out.observation, "/testbed/minicalc\nhello world\n");
    assert_eq!(out.exit_code, Some(0));
    let out = tools.execute(&bash("vim parser.py")).await.unwrap();
    assert_eq!(out.observation, "Operation 'vim parser.py' is not supported by this environment.");
    let out = tools.execute(&bash("python")).await.unwrap();
    assert_eq!(out.observation, "Operation 'python' is not supported by this environment.");
    let out = tools.execute(&bash("sleep 30")).await.unwrap();
    assert!(out.timed_out);
    assert!(
        out.observation.starts_with("The command 'sleep 30' was cancelled because it took more than 2 seconds."),
        "{}",
        out.observation
    );
    let out = tools.execute(&bash("ls | head -n 2; exit 3")).await.unwrap();
    assert_eq!(out.observation, "__init__.py\nerrors.py\n");
    assert_eq!(out.exit_code, Some(3));
    let out = tools.execute_text("<function=bash>\n<parameter=command>pwd</parameter>\n</function>").await.unwrap();
    assert_eq!(out.observation, "/testbed/minicalc\n", "state survives exit and canonical text works");
    task.sandbox.remove().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn editor_observations_match_swe_agent() {
    let task = minicalc_task().await;
    let mut tools = SweTools::new(&task.sandbox, &task.base_sha);
    let path = "/testbed/minicalc/errors.py";
    let out = tools.execute(&editor(&[("command", "view"), ("path", path), ("view_range", "[7, 9]")])).await.unwrap();
    assert_eq!(
        out.observation,
        "Here's the result of running `cat -n` on /testbed/minicalc/errors.py:\n     7\t    def __init__(self, message, position=None):\n     8\t        super().__init__(message if position is None else f\"{message} at position {position}\")\n     9\t        self.position = position\n\n"
    );
    let out = tools.execute(&editor(&[("command", "view"), ("path", path), ("view_range", "[0, 2]")])).await.unwrap();
    assert_eq!(out.observation, "Invalid `view_range`: [0, 2]. Its first element `0` should be within the range of lines of the file: [1, 10]\n");
    let out = tools.execute(&editor(&[("command", "view"), ("path", "/testbed/minicalc")])).await.unwrap();
    assert!(out.observation.starts_with("Here's the files and directories up to 2 levels deep in /testbed/minicalc, excluding hidden items:\n/testbed/minicalc\n"), "{}", out.observation);
    assert!(out.observation.contains("\n/testbed/minicalc/parser.py\n"));
    let out = tools.execute(&editor(&[("command", "view"), ("path", "minicalc/errors.py")])).await.unwrap();
    assert_eq!(out.observation, "The path minicalc/errors.py is not an absolute path, it should start with `/`. Maybe you meant /testbed/minicalc/errors.py?\n");
    let out = tools.execute(&editor(&[("command", "view"), ("path", "/testbed/nope.py")])).await.unwrap();
    assert_eq!(out.observation, "The path /testbed/nope.py does not exist. Please provide a valid path.\n");
    let out = tools
        .execute(&editor(&[("command", "str_replace"), ("path", path), ("old_str", "missing text"), ("new_str", "x")]))
        .await
        .unwrap();
    assert_eq!(out.observation, "No replacement was performed, old_str `missing text` did not appear verbatim in /testbed/minicalc/errors.py.\n");
    let out = tools
        .execute(&editor(&[("command", "str_replace"), ("path", path), ("old_str", "position"), ("new_str", "pos")]))
        .await
        .unwrap();
    assert_eq!(out.observation, "No replacement was performed. Multiple occurrences of old_str `position` in lines [7, 8, 9]. Please ensure it is unique\n");
    let out = tools
        .execute(&editor(&[
            ("command", "str_replace"),
            ("path", path),
            ("old_str", "        self.position = position"),
            ("new_str", "        self.position = position\n        self.message = message"),
        ]))
        .await
        .unwrap();
    assert_eq!(
        out.observation,
        "The file /testbed/minicalc/errors.py has been edited. Here's the result of running `cat -n` on a snippet of /testbed/minicalc/errors.py:\n     4\tclass CalcError(Exception):\n     5\t    \"\"\"Any error in tokenizing, parsing or evaluating an expression.\"\"\"\n     6\t\n     7\t    def __init__(self, message, position=None):\n     8\t        super().__init__(message if position is None else f\"{message} at position {position}\")\n     9\t        self.position = position\n    10\t        self.message = message\nReview the changes and make sure they are as expected. Edit the file again if necessary.\n"
    );
    let out = tools
        .execute(&editor(&[("command", "insert"), ("path", path), ("insert_line", "1"), ("new_str", "# inserted")]))
        .await
        .unwrap();
    assert_eq!(
        out.observation,
        "The file /testbed/minicalc/errors.py has been edited. Here's the result of running `cat -n` on a snippet of the edited file:\n     1\t\"\"\"Errors raised by minicalc.\"\"\"\n     2\t# inserted\n     3\t\n     4\t\n     5\tclass CalcError(Exception):\n     6\t    \"\"\"Any error in tokenizing, parsing or evaluating an expression.\"\"\"\nReview the changes and make sure they are as expected (correct indentation, no duplicate lines, etc). Edit the file again if necessary.\n"
    );
    let out = tools.execute(&editor(&[("command", "undo_edit"), ("path", path)])).await.unwrap();
    assert!(out.observation.starts_with("Last edit to /testbed/minicalc/errors.py undone successfully. Here's the result of running `cat -n` on /testbed/minicalc/errors.py:\n     1\t\"\"\"Errors raised by minicalc.\"\"\"\n     2\t\n"), "{}", out.observation);
    let out = tools.execute(&editor(&[("command", "create"), ("path", path), ("file_text", "x")])).await.unwrap();
    assert_eq!(
        out.observation,
        "File already exists at: /testbed/minicalc/errors.py. Cannot overwrite files using command `create`.\n"
    );
    let out = tools
        .execute(&editor(&[("command", "create"), ("path", "/testbed/no/dir/x.py"), ("file_text", "x")]))
        .await
        .unwrap();
    assert_eq!(out.observation, "The parent directory /testbed/no/dir does not exist. Please create it first.\n");
    let out = tools
        .execute(&editor(&[("command", "create"), ("path", "/testbed/notes.txt"), ("file_text", "new file\n")]))
        .await
        .unwrap();
    assert_eq!(out.observation, "File created successfully at: /testbed/notes.txt\n");
    // submit: review first, then the diff (the edit above and the new file).
    let review = tools.execute(&Action::new("submit", [])).await.unwrap();
    assert!(review.submission.is_none());
    assert!(review.observation.starts_with("Thank you for your work on this issue."), "{}", review.observation);
    let done = tools.execute(&Action::new("submit", [])).await.unwrap();
    let diff = done.submission.unwrap();
    assert!(review.observation.contains(&format!("<diff>\n{diff}\n</diff>\n")));
    assert!(diff.contains("diff --git a/minicalc/errors.py b/minicalc/errors.py\n"), "{diff}");
    assert!(diff.contains("+        self.message = message\n"), "{diff}");
    assert!(diff.contains("diff --git a/notes.txt b/notes.txt\nnew file mode 100644\n"), "{diff}");
    assert!(diff.contains("+new file\n"), "{diff}");
    task.sandbox.remove().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn editor_works_on_the_fake_sandbox() {
    let sb = FakeSandbox::new(&SandboxConfig::default()).unwrap();
    sb.write_file("/testbed/a.py", b"def f():\n\treturn 1\n").await.unwrap();
    let mut tools = SweTools::new(&sb, "unused");
    let out = tools.execute(&editor(&[("command", "view"), ("path", "/testbed/a.py")])).await.unwrap();
    assert_eq!(out.observation, "Here's the result of running `cat -n` on /testbed/a.py:\n     1\tdef f():\n     2\t        return 1\n     3\t\n\n");
    let out = tools
        .execute(&editor(&[
            ("command", "str_replace"),
            ("path", "/testbed/a.py"),
            ("old_str", "return 1"),
            ("new_str", "return 2"),
        ]))
        .await
        .unwrap();
    assert!(out.observation.starts_with("The file /testbed/a.py has been edited."), "{}", out.observation);
    assert_eq!(
        sb.read_file("/testbed/a.py").await.unwrap(),
        b"def f():\n        return 2\n",
        "tabs expanded as SWE-agent does"
    );
    tools.execute(&editor(&[("command", "undo_edit"), ("path", "/testbed/a.py")])).await.unwrap();
    assert_eq!(sb.read_file("/testbed/a.py").await.unwrap(), b"def f():\n        return 1\n");
    let out = tools.execute(&editor(&[("command", "undo_edit"), ("path", "/testbed/a.py")])).await.unwrap();
    assert_eq!(out.observation, "No edit history found for /testbed/a.py.\n");
    let out = tools
        .execute(&editor(&[("command", "insert"), ("path", "/testbed/a.py"), ("insert_line", "9"), ("new_str", "x")]))
        .await
        .unwrap();
    assert_eq!(
        out.observation,
        "Invalid `insert_line` parameter: 9. It should be within the range of lines of the file: [0, 3]\n"
    );
    let out = tools
        .execute(&editor(&[("command", "str_replace"), ("path", "/testbed"), ("old_str", "a"), ("new_str", "b")]))
        .await
        .unwrap();
    assert_eq!(
        out.observation,
        "The path /testbed is a directory and only the `view` command can be used on directories\n"
    );
    let out = tools.execute(&bash("echo hi > b.txt && cat b.txt")).await.unwrap();
    assert_eq!(out.observation, "hi\n");
}
