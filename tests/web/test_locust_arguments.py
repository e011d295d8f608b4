"""Options a scenario adds with Locust's add_argument keywords, as the web UI's form shows them
(``include_in_web_ui``, ``is_secret``, ``is_required``, ``is_multiple``, a boolean default)."""

from horde.options import parse_run_options
from horde.web.scenario_options import apply_options, discover_options, options_html


def add_locust_options(parser):
    parser.add_argument("--my-argument", env_var="MY_ARGUMENT", default="", help="It's working")
    parser.add_argument("--env", choices=["dev", "staging", "prod"], default="dev")
    parser.add_argument("--endpoints", choices=["a", "b", "c"], is_multiple=True, default=["a"])
    parser.add_argument("--invisible", include_in_web_ui=False, default="I am invisible")
    parser.add_argument("--token", is_secret=True, default="I am a secret")
    parser.add_argument("--flag", default=True)
    parser.add_argument("--needed", is_required=True, default="I am required")
    group = parser.add_argument_group("mine")
    group.add_argument("--in-group", is_secret=True, default="g")


def settings(argv=(), environ=None):
    return parse_run_options(
        ["s.py", *argv], environ=environ or {}, extend_parser=add_locust_options
    )


def test_the_form_follows_locusts_keywords():
    options = discover_options(settings().scenario_actions)
    by_dest = {o.dest: o for o in options}
    assert "invisible" not in by_dest  # include_in_web_ui=False
    assert by_dest["token"].secret and by_dest["in_group"].secret
    assert by_dest["needed"].required and by_dest["endpoints"].multiple
    assert by_dest["flag"].kind == "bool"  # a boolean default: a checkbox
    page = options_html(options, settings().parsed_options(), "start")
    assert 'type="password" name="token"' in page
    assert 'name="endpoints" multiple data-multiple' in page
    assert 'name="needed" value="I am required" autocomplete="off" required' in page
    assert 'type="checkbox" name="flag" value="true" data-bool checked' in page
    assert "invisible" not in page


def test_values_from_the_form_and_the_environment():
    parsed = settings(environ={"MY_ARGUMENT": "from env"}).parsed_options()
    assert parsed.my_argument == "from env" and parsed.invisible == "I am invisible"
    assert (
        settings(["--my-argument", "given"], {"MY_ARGUMENT": "x"}).parsed_options().my_argument
        == "given"
    )
    options = discover_options(settings().scenario_actions)
    changes = apply_options({"endpoints": "b,c", "flag": "false"}, options, parsed)
    assert changes == {"endpoints": ["b", "c"], "flag": False}
    assert parsed.endpoints == ["b", "c"]
