"""Synthetic suggestion boards for benchmarks: Chinese, English and mixed, from templates.

A real board is narrow: the same few hundred features come up again and again in different
words, so common terms have long posting lists. The generator keeps that shape (a small topic
vocabulary, many phrasings, optional details) rather than drawing random words.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

_ZH_FEATURES = (
    "夜间模式", "消息置顶", "语音转文字", "导出聊天记录", "自定义表情", "批量删除", "多账号切换",
    "离线下载", "字体大小调节", "投票功能", "定时发送", "消息撤回", "群公告", "抽奖活动",
    "签到奖励", "排行榜", "搜索历史", "截图分享", "双击点赞", "频道分组", "免打扰", "私信过滤",
    "图片压缩", "视频倍速", "歌词显示", "桌面小组件", "指纹解锁", "云端同步", "深色图标",
)  # fmt: skip
_ZH_AREAS = ("设置页", "聊天窗口", "个人主页", "首页", "通知中心", "频道列表", "商城", "相册")
_ZH_PROBLEMS = ("经常闪退", "加载很慢", "显示不全", "没有反应", "耗电太快", "会卡住", "乱码")
_ZH_TEMPLATES = (
    "希望{area}能支持{feature}",
    "建议增加{feature}功能",
    "能不能在{area}加一个{feature}",
    "{feature}什么时候上线？",
    "{area}的{feature}{problem}",
    "求{feature}！{area}用起来太不方便了",
    "请问有没有{feature}，找了半天没找到",
    "强烈建议{area}做{feature}",
    "为什么{feature}{problem}",
    "我也想要{feature}，同求",
)
_EN_FEATURES = (
    "dark mode", "pinned messages", "voice to text", "chat export", "custom emoji", "bulk delete",
    "account switching", "offline downloads", "font size settings", "polls", "scheduled messages",
    "message recall", "announcements", "giveaways", "daily check-in rewards", "leaderboards",
    "search history", "screenshot sharing", "double tap to like", "channel folders",
    "do not disturb", "DM filters", "image compression", "playback speed", "lyrics",
    "home screen widgets", "fingerprint unlock", "cloud sync", "dark icons",
)  # fmt: skip
_EN_AREAS = (
    "settings",
    "the chat window",
    "profiles",
    "the home page",
    "notifications",
    "the shop",
)
_EN_PROBLEMS = ("keeps crashing", "is very slow", "is cut off", "does nothing", "drains battery")
_EN_TEMPLATES = (
    "Please add {feature} to {area}",
    "Feature request: {feature}",
    "Can we get {feature} in {area}?",
    "{feature} {problem} on Android",
    "When is {feature} coming?",
    "Would love {feature}, {area} is hard to use without it",
    "Any plans for {feature}? Couldn't find it in {area}",
    "Why {feature} {problem} since the last update",
    "+1 for {feature}",
)
_MIXED_TEMPLATES = (
    "希望支持 {en_feature}",
    "{en_area} 里能加{zh_feature}吗",
    "建议 {en_feature} 也做一下，{zh_area}太乱了",
    "{zh_feature} / {en_feature} please",
    "iOS 版{zh_feature}{zh_problem}",
)
_DETAILS = (
    "现在每次都要手动操作，很麻烦。",
    "其他软件都有这个功能了。",
    "版本 {version}，手机型号 {device}。",
    "It would save a lot of time for moderators.",
    "Tested on version {version} with a {device}.",
    "Many people in our group asked for this.",
    "谢谢开发者！",
    "",
)
_DEVICES = ("Pixel 8", "iPhone 15", "小米 14", "华为 Mate 60", "Galaxy S23", "OPPO Find X7")


def _fill(rng: random.Random, template: str) -> str:
    zh = _is_zh(template)
    zh_feature = rng.choice(_ZH_FEATURES)
    en_feature = rng.choice(_EN_FEATURES)
    return template.format(
        feature=zh_feature if zh else en_feature,
        zh_feature=zh_feature,
        en_feature=en_feature,
        area=rng.choice(_ZH_AREAS if zh else _EN_AREAS),
        zh_area=rng.choice(_ZH_AREAS),
        en_area=rng.choice(_EN_AREAS),
        problem=rng.choice(_ZH_PROBLEMS if zh else _EN_PROBLEMS),
        zh_problem=rng.choice(_ZH_PROBLEMS),
        version=f"{rng.randint(1, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 9)}",
        device=rng.choice(_DEVICES),
    )


def _is_zh(template: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in template)


def suggestion(rng: random.Random) -> str:
    """One suggestion: a title from a Chinese, English or mixed template, maybe with details."""
    roll = rng.random()
    if roll < 0.45:
        template = rng.choice(_ZH_TEMPLATES)
    elif roll < 0.85:
        template = rng.choice(_EN_TEMPLATES)
    else:
        template = rng.choice(_MIXED_TEMPLATES)
    title = _fill(rng, template)
    detail = _fill(rng, rng.choice(_DETAILS)) if rng.random() < 0.6 else ""
    tag = f" #{rng.randint(1, 5000)}" if rng.random() < 0.3 else ""
    return f"{title}{tag}\n{detail}".rstrip()


def board(size: int, seed: int = 7) -> Iterator[str]:
    rng = random.Random(seed)
    for _ in range(size):
        yield suggestion(rng)
