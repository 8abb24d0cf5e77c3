"""Volunteer service tasks in the console: the list of tasks (``tasks.list_tasks``, with
places taken and completions), posting one for a community worth a rule's points, and a
task's page with every claim and completion and the close button — through the same use
cases as the CLI (``server.services.tasks``: role and community checks, audit rows, the
task's ``task`` feed row)."""

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from server.console import web
from server.console.pages.forms import Form, integer, text
from server.services import tasks

web.NAV.append(web.NavItem("nav_tasks", "/tasks", "task.read"))
web.INVALID_WORDS.update({"title": "invalid_task_title", "slots": "invalid_task_slots", "rule": "invalid_task_rule"})


class TaskPages(Controller):
    path = "/tasks"

    @get("/", sync_to_thread=True)
    def listing(self, request: Request, page: NamedDependency[web.Page]) -> Template:
        q = request.query_params
        status, community = q.get("status") or None, q.get("community") or None
        shown = tasks.overview(page.ctx, page.who, community, status)
        return page.render("tasks.html", **shown, status=status or "", community=community or "", statuses=tasks.STATUSES,
                           may_post=page.who.can("task.manage"))

    @post("/", sync_to_thread=True, status_code=303)
    def post_task(self, page: NamedDependency[web.Page], data: Form) -> Redirect:
        out = tasks.post(page.ctx, page.who, text(data, "community"), text(data, "rule"), text(data, "title"),
                         integer(data, "slots"))
        return Redirect(f"/tasks/{out['id']}?done=posted", status_code=303)

    @get("/{task_id:str}", sync_to_thread=True)
    def task(self, page: NamedDependency[web.Page], task_id: FromPath[str], done: FromQuery[str] = "") -> Template:
        shown = tasks.task(page.ctx, page.who, task_id)
        may = page.who.can("task.manage") and page.who.sees(shown["community"]) and shown["status"] == "open"
        return page.render("task.html", task=shown, done=done, may_close=may,
                           completed=sum(1 for c in shown["claims"] if c["done_event"]))

    @post("/{task_id:str}/close", sync_to_thread=True, status_code=303)
    def close(self, page: NamedDependency[web.Page], task_id: FromPath[str]) -> Redirect:
        out = tasks.close(page.ctx, page.who, task_id)
        return Redirect(f"/tasks/{out['id']}?done=closed", status_code=303)
