package config

import (
	"fmt"
	"strconv"
	"strings"
)

// applyCoverEnv reads EDGEPURGE_COVER_TAGS (tag templates, comma-separated)
// and EDGEPURGE_COVER_HOSTS (true: the hostnames cover a page) into the
// default rule's cover, when there is a default rule.
func applyCoverEnv(cfg *Config, getenv Getenv) error {
	tags := getenv("EDGEPURGE_COVER_TAGS")
	hosts := strings.TrimSpace(getenv("EDGEPURGE_COVER_HOSTS"))
	if strings.TrimSpace(tags) == "" && hosts == "" {
		return nil
	}
	if cfg.Defaults == nil {
		return fmt.Errorf("EDGEPURGE_COVER_TAGS, EDGEPURGE_COVER_HOSTS: need a default rule (EDGEPURGE_HOSTS or defaults in the file)")
	}
	if cfg.Defaults.Cover == nil {
		cfg.Defaults.Cover = &Cover{}
	}
	if strings.TrimSpace(tags) != "" {
		cfg.Defaults.Cover.Tags = splitList(tags)
	}
	if hosts != "" {
		b, err := strconv.ParseBool(hosts)
		if err != nil {
			return fmt.Errorf("EDGEPURGE_COVER_HOSTS=%q: want true or false", hosts)
		}
		cfg.Defaults.Cover.Hosts = b
	}
	return nil
}
