#!/usr/bin/env bash
# 思政平台离线安装：从本安装包的 wheels/ 创建虚拟环境并安装，全程不访问网络。
#
#   sudo ./install_offline.sh                 系统安装：/opt/sizheng/venv、/etc/sizheng、/var/lib/sizheng，
#                                             建系统用户 sizheng，中文字体装到 /usr/local/share/fonts/sizheng
#   ./install_offline.sh --prefix DIR         装到 DIR 下（venv、etc、var、share/fonts），不建用户、不改系统目录
#
# 选项：--prefix DIR  --python PYTHON（须为 CPython 3.11）  --no-font  -h
# 再次运行即升级：已有的虚拟环境按本包的锁定版本更新；已有的配置文件和密钥绝不覆盖。
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
WHEELS="$HERE/wheels"

die() {
	printf '错误：%s\n' "$*" >&2
	exit 1
}

say() {
	printf '==> %s\n' "$*"
}

usage() {
	sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

PREFIX=""
PYTHON=""
WITH_FONT=1
while (($#)); do
	case "$1" in
	--prefix)
		[[ $# -ge 2 ]] || die "--prefix 需要一个目录。"
		PREFIX="$2"
		shift 2
		;;
	--prefix=*)
		PREFIX="${1#*=}"
		shift
		;;
	--python)
		[[ $# -ge 2 ]] || die "--python 需要一个解释器路径。"
		PYTHON="$2"
		shift 2
		;;
	--python=*)
		PYTHON="${1#*=}"
		shift
		;;
	--no-font)
		WITH_FONT=0
		shift
		;;
	-h | --help)
		usage
		exit 0
		;;
	*) die "未知选项 $1（用 -h 查看用法）。" ;;
	esac
done

# Layout: a system install follows the FHS; --prefix keeps everything under one directory.
if [[ -z "$PREFIX" ]]; then
	((EUID == 0)) || die "系统安装需要 root 权限；没有 root 权限时请用 --prefix 指定安装目录。"
	SYSTEM=1
	PREFIX=/opt/sizheng
	ETC_DIR=/etc/sizheng
	VAR_DIR=/var/lib/sizheng
	FONT_DIR=/usr/local/share/fonts/sizheng
	SERVICE_USER=sizheng
else
	SYSTEM=0
	mkdir -p "$PREFIX"
	PREFIX="$(cd "$PREFIX" && pwd)"
	ETC_DIR="$PREFIX/etc"
	VAR_DIR="$PREFIX/var"
	FONT_DIR="$PREFIX/share/fonts"
	SERVICE_USER=""
fi
VENV="$PREFIX/venv"

# No index, no configuration that could name one, no user site: nothing reaches the network.
export PIP_NO_INDEX=1 PIP_CONFIG_FILE=/dev/null PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONNOUSERSITE=1
unset PIP_INDEX_URL PIP_EXTRA_INDEX_URL PIP_FIND_LINKS PIP_CONSTRAINT PIP_REQUIREMENT

shopt -s nullglob
project_wheels=("$WHEELS"/sizheng-*.whl)
pip_wheels=("$WHEELS"/pip-*.whl)
shopt -u nullglob
((${#project_wheels[@]} == 1)) || die "安装包不完整：wheels/ 中应有且只有一个 sizheng-*.whl。"
((${#pip_wheels[@]} == 1)) || die "安装包不完整：wheels/ 中应有且只有一个 pip-*.whl。"
[[ -f "$WHEELS/constraints.txt" ]] || die "安装包不完整：缺少 wheels/constraints.txt。"
VERSION="$(basename "${project_wheels[0]}" | cut -d- -f2)"

# --- the interpreter: CPython 3.11 on x86_64 Linux with a new enough glibc ------------------------
if [[ -z "$PYTHON" ]]; then
	for candidate in python3.11 python3; do
		if command -v "$candidate" >/dev/null 2>&1; then
			PYTHON="$(command -v "$candidate")"
			break
		fi
	done
fi
[[ -n "$PYTHON" ]] || die "未找到 python3.11。请先从操作系统安装介质安装 Python 3.11，或用 --python 指定。"
GLIBC_MIN="$(sed -n 's/.*"glibc_min": *"\([0-9.]*\)".*/\1/p' "$HERE/MANIFEST.json" 2>/dev/null || true)"
"$PYTHON" - "${GLIBC_MIN:-2.17}" <<'PY' || exit 1
import platform
import sys

need = tuple(int(x) for x in sys.argv[1].split("."))
problems = []
if platform.python_implementation() != "CPython" or sys.version_info[:2] != (3, 11):
    problems.append(f"需要 CPython 3.11，{sys.executable} 是 {platform.python_implementation()} {platform.python_version()}")
if platform.machine() != "x86_64":
    problems.append(f"需要 x86_64，本机是 {platform.machine()}")
libc, version = platform.libc_ver()
if libc == "glibc" and version and tuple(int(x) for x in version.split(".")[:2]) < need:
    problems.append(f"需要 glibc ≥ {sys.argv[1]}，本机是 {version}")
elif libc != "glibc":
    problems.append("需要 glibc（不支持 musl 等其他 C 库）")
if problems:
    print("错误：" + "；".join(problems) + "。", file=sys.stderr)
    sys.exit(1)
PY

say "安装思政平台 $VERSION 到 $VENV（离线，不访问网络）"
mkdir -p "$PREFIX"
if [[ ! -x "$VENV/bin/python" ]]; then
	# --without-pip: ensurepip (Debian's python3-venv) is not needed; pip comes from the bundle.
	"$PYTHON" -m venv --without-pip "$VENV"
fi
cd "$PREFIX" # never the bundle or a source checkout: `python -m sizheng` must import the installed package
if ! "$VENV/bin/python" -m pip --version >/dev/null 2>&1; then
	"$VENV/bin/python" "${pip_wheels[0]}/pip" install --quiet --no-index --find-links "$WHEELS" "${pip_wheels[0]}"
fi
"$VENV/bin/python" -m pip install --quiet --no-index --find-links "$WHEELS" \
	--constraint "$WHEELS/constraints.txt" "sizheng[s3]==$VERSION"  # [s3]: MinIO support, upgraded with the rest
"$VENV/bin/python" -m pip check >/dev/null || die "依赖检查失败：$VENV/bin/python -m pip check"
say "已安装：$("$VENV/bin/python" -m pip show sizheng 2>/dev/null | sed -n 's/^Version: /sizheng /p')"

# --- service user, configuration, keys -----------------------------------------------------------
if ((SYSTEM)); then
	if ! id -u "$SERVICE_USER" >/dev/null 2>&1; then
		say "创建系统用户 $SERVICE_USER"
		useradd --system --home-dir "$VAR_DIR" --no-create-home --shell /usr/sbin/nologin "$SERVICE_USER"
	fi
	# The services run as that user: the interpreter the venv links to must be usable by it.
	runuser -u "$SERVICE_USER" -- "$VENV/bin/python" -c 'import sizheng' 2>/dev/null \
		|| die "系统用户 $SERVICE_USER 无法运行 $VENV/bin/python（它链接到 $PYTHON，可能位于 /root 等无权访问的目录）；请用系统的 Python 3.11（如 /usr/bin/python3.11）重新安装：先删除 $VENV，再加 --python /usr/bin/python3.11。"
fi
install -d -m 0750 "$ETC_DIR" "$VAR_DIR"
install -d -m 0700 "$ETC_DIR/keys"
if ((SYSTEM)); then
	# Keys: owned by the service user and readable by nobody else (check-deploy checks 0600).
	chown "root:$SERVICE_USER" "$ETC_DIR"
	chown "$SERVICE_USER:$SERVICE_USER" "$ETC_DIR/keys" "$VAR_DIR"
fi

new_key() { # file, genkey arguments...
	local file="$1"
	shift
	[[ -s "$file" ]] && return 0
	(
		umask 077
		"$VENV/bin/python" -m sizheng genkey "$@" >"$file.tmp" 2>/dev/null
		mv "$file.tmp" "$file"
	)
	if ((SYSTEM)); then
		chown "$SERVICE_USER:$SERVICE_USER" "$file"
	fi
	KEYS_MADE=1
}
KEYS_MADE=0
new_key "$ETC_DIR/keys/secret.key"
new_key "$ETC_DIR/keys/index.key"
new_key "$ETC_DIR/keys/data.key" --data

ENV_FILE="$ETC_DIR/sizheng.env"
if [[ ! -f "$ENV_FILE" ]]; then
	(
		umask 027
		cat >"$ENV_FILE" <<EOF
# 思政平台配置（systemd 的 EnvironmentFile；手工运行命令前：set -a; . $ENV_FILE; set +a）
# 说明见 docs/deploy.md 与 README 的「配置」一节。
SIZHENG_MODE=production
SIZHENG_VAR_DIR=$VAR_DIR
SIZHENG_SECRET_KEY_FILE=$ETC_DIR/keys/secret.key
SIZHENG_INDEX_KEY_FILE=$ETC_DIR/keys/index.key
SIZHENG_DATA_KEY_FILE=$ETC_DIR/keys/data.key
# matplotlib 的字体缓存（Word 报告的图表），放在数据目录中，服务用户可写：
MPLCONFIGDIR=$VAR_DIR/.cache/matplotlib
# 改成用户访问本平台所用的主机名（逗号分隔）：
SIZHENG_ALLOWED_HOSTS=sizheng.example.gov.cn
# 不设置时使用 $VAR_DIR/sizheng.sqlite3；多台机器或较大规模请用 PostgreSQL：
#DATABASE_URL=postgres://sizheng:密码@127.0.0.1:5432/sizheng
#SIZHENG_EMAIL_HOST=mail.example.gov.cn
#SIZHENG_EMAIL_FROM=sizheng@example.gov.cn
# 网站工作进程数（见 docs/deploy.md 第 4 节的公式）：
SIZHENG_WEB_WORKERS=3
# 缓存：不设置时为本机文件缓存（$VAR_DIR/cache，本机所有进程共享）；多台机器时设为 db：
#SIZHENG_CACHE=db
EOF
	)
	if ((SYSTEM)); then
		chown "root:$SERVICE_USER" "$ENV_FILE"
		chmod 0640 "$ENV_FILE"
	fi
	say "已写入配置文件 $ENV_FILE（请修改 SIZHENG_ALLOWED_HOSTS 等）"
else
	say "保留已有配置文件 $ENV_FILE"
fi

# This guide next to the programs (the systemd units point at it).
if [[ -f "$HERE/docs/deploy.md" ]]; then
	install -d -m 0755 "$PREFIX/docs"
	install -m 0644 "$HERE/docs/deploy.md" "$PREFIX/docs/deploy.md"
fi

# --- bin/sizheng: `python -m sizheng` with this installation's configuration -----------------------
install -d -m 0755 "$PREFIX/bin"
cat >"$PREFIX/bin/sizheng.tmp" <<EOF
#!/bin/sh
# python -m sizheng <命令>，使用本安装的配置 $ENV_FILE（以 root 运行时切换为服务用户）。
# 由 install_offline.sh 生成。例：$PREFIX/bin/sizheng migrate
set -e
umask 027
set -a
. "$ENV_FILE"
set +a
cd "$VAR_DIR"
if [ -n "$SERVICE_USER" ] && [ "\$(id -u)" = 0 ]; then
	exec runuser -u "$SERVICE_USER" -- "$VENV/bin/python" -m sizheng "\$@"
fi
exec "$VENV/bin/python" -m sizheng "\$@"
EOF
chmod 0755 "$PREFIX/bin/sizheng.tmp"
mv "$PREFIX/bin/sizheng.tmp" "$PREFIX/bin/sizheng"

# --- the CJK font for charts in Word reports -------------------------------------------------------
shopt -s nullglob globstar
bundled_fonts=("$HERE"/fonts/*.tt[cf] "$HERE"/fonts/*.otf)
# The families sizheng.core.charts looks for, where it looks (/usr/share/fonts, /usr/local/share/fonts).
system_fonts=(/usr/share/fonts/**/NotoSansCJK*.tt[cf] /usr/share/fonts/**/NotoSerifCJK*.tt[cf]
	/usr/share/fonts/**/SourceHan*.tt[cf] /usr/share/fonts/**/wqy*.tt[cf]
	/usr/local/share/fonts/**/NotoSansCJK*.tt[cf] /usr/local/share/fonts/**/SourceHan*.tt[cf])
shopt -u nullglob globstar
if ((WITH_FONT == 0)); then
	say "按 --no-font 跳过中文字体。"
elif ((${#bundled_fonts[@]} == 0)); then
	say "本安装包未带中文字体；Word 报告中的图表需要服务器安装 fonts-noto-cjk，否则中文显示为方框。"
elif ((${#system_fonts[@]} > 0)); then
	say "系统已有中文字体（${system_fonts[0]}），不再安装。"
else
	install -d -m 0755 "$FONT_DIR"
	install -m 0644 "${bundled_fonts[@]}" "$HERE/fonts/LICENSE-OFL.txt" "$FONT_DIR/"
	if ((SYSTEM)); then
		if command -v fc-cache >/dev/null 2>&1; then
			fc-cache -f "$FONT_DIR" >/dev/null 2>&1 || true
		fi
		say "已安装中文字体到 $FONT_DIR（SIL OFL 1.1，许可证同目录）。"
	else
		say "中文字体已复制到 $FONT_DIR；请管理员把它复制到 /usr/local/share/fonts/sizheng/，Word 报告的图表才能显示中文。"
	fi
fi

cat <<EOF

安装完成：思政平台 $VERSION
  程序    $VENV
  配置    $ENV_FILE
  密钥    $ETC_DIR/keys/（权限 0600；$( ((KEYS_MADE)) && echo "本次新生成" || echo "已有，未改动")）
  数据    $VAR_DIR

重要：密钥目录请另行离线保存两份（例如加密 U 盘，存放在不同地点）。丢失数据密钥，加密数据将无法恢复；
      密钥绝不放进数据库备份、代码仓库或聊天工具。

下一步：
  1. 编辑 $ENV_FILE（至少 SIZHENG_ALLOWED_HOSTS；使用 PostgreSQL 时设置 DATABASE_URL）。
  2. 初始化（$PREFIX/bin/sizheng 即带本安装配置的 python -m sizheng，root 运行时自动切换为服务用户）：
       $PREFIX/bin/sizheng migrate
       $PREFIX/bin/sizheng createcachetable
       $PREFIX/bin/sizheng collectstatic --no-input
       $PREFIX/bin/sizheng check-deploy
       $PREFIX/bin/sizheng create_system_accounts
  3. 按 docs/deploy.md 安装 systemd 服务（sizheng-web、sizheng-worker、sizheng-scheduler）和 nginx。
EOF
