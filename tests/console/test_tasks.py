"""Volunteer service tasks in the console: a community manager posts a task worth a rule's
points, a kiosk pushes a claim and its completion over HTTP, the task's page shows them
and the award's event, and the manager closes it; a manager of another community may not
open it."""

import re

import httpx
from playwright.sync_api import expect

from tests.conftest import Clock
from tests.server.kiosk_double import KioskDouble

CARD_A = "5106810100001"  # SQ01; shop S01 is SQ01's


def test_a_manager_posts_a_task_sees_it_claimed_and_done_and_closes_it(console, page, sign_in):
    sign_in(page, "cm1")
    page.click("nav >> text=志愿服务")
    expect(page.locator("h1")).to_have_text("志愿服务任务")
    page.fill("#post-task input[name=community]", "SQ01")
    page.fill("#post-task input[name=title]", "调解楼上楼下噪音纠纷")
    page.select_option("#post-task select[name=rule]", "TJJF")
    page.fill("#post-task input[name=slots]", "2")
    page.click("#post-task button")
    page.wait_for_url(re.compile(r"/tasks/T1\?done=posted$"))
    expect(page.locator(".notice")).to_have_text("任务 T1 已发布")
    expect(page.locator("#points")).to_have_text("8")

    client = httpx.Client(base_url=console.url, timeout=30)
    k = KioskDouble(client, 12, Clock())
    assert k.enroll(console.enroll_code("S01")).status_code == 200
    claim = k.claim(CARD_A, "T1")
    done = k.done(CARD_A, "T1", claim.id, "TJJF", 8)
    assert k.push(k.batch(claim, done)).status_code == 200

    page.goto(console.url + "/tasks/T1")
    expect(page.locator("#taken")).to_have_text("1 / 2")
    expect(page.locator("#completed")).to_have_text("1")
    expect(page.locator("#claims")).to_contain_text(claim.id)
    expect(page.locator("#claims")).to_contain_text(done.id)
    page.click("#close-task button")
    expect(page.locator(".notice")).to_have_text("任务 T1 已关闭")
    expect(page.locator("h1")).to_contain_text("已关闭")
    page.click("nav >> text=志愿服务")
    expect(page.locator("#task-list")).to_contain_text("调解楼上楼下噪音纠纷")


def test_a_manager_of_another_community_may_not_open_or_post_there(console, page, sign_in):
    sign_in(page, "cm1")
    page.click("nav >> text=志愿服务")
    page.fill("#post-task input[name=community]", "SQ01")
    page.fill("#post-task input[name=title]", "收集居民意见")
    page.click("#post-task button")
    page.wait_for_url(re.compile(r"/tasks/T1"))
    page.context.clear_cookies()
    sign_in(page, "cm2")
    resp = page.goto(console.url + "/tasks/T1")
    assert resp.status == 403
    page.goto(console.url + "/tasks")
    expect(page.locator("#task-list")).to_have_count(0)
