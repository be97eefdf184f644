################################################################################
#
# memdog: installs the static binary built by memdog's `make dist`
# (put this directory in a br2-external tree: package/memdog/)
#
################################################################################

MEMDOG_VERSION = 0.1.0
MEMDOG_SITE = $(dir $(call qstrip,$(BR2_PACKAGE_MEMDOG_TARBALL)))
MEMDOG_SOURCE = $(notdir $(call qstrip,$(BR2_PACKAGE_MEMDOG_TARBALL)))
MEMDOG_SITE_METHOD = file
MEMDOG_LICENSE = MIT

define MEMDOG_INSTALL_TARGET_CMDS
	$(INSTALL) -D -m 0755 $(@D)/memdog $(TARGET_DIR)/usr/bin/memdog
	$(INSTALL) -D -m 0644 $(@D)/board-configs/default.conf $(TARGET_DIR)/etc/memdog.conf
endef

define MEMDOG_INSTALL_INIT_SYSV
	$(INSTALL) -D -m 0755 $(@D)/board-configs/init/S99memdog $(TARGET_DIR)/etc/init.d/S99memdog
endef

define MEMDOG_INSTALL_INIT_SYSTEMD
	$(INSTALL) -D -m 0644 $(@D)/board-configs/init/memdog.service $(TARGET_DIR)/usr/lib/systemd/system/memdog.service
endef

$(eval $(generic-package))
