import GoCompat
import Kube

/// Jobs' and CronJobs' defaults, generated selector and validation (batch/v1's).
extension Objects {
    public static let jobControllerUIDLabel = "batch.kubernetes.io/controller-uid"
    public static let jobNameLabel = "batch.kubernetes.io/job-name"
    public static let jobCompletionIndex = "batch.kubernetes.io/job-completion-index"

    /// A pod template's spec with a Pod's defaults.
    static func templateDefaults(_ template: JSONValue?) -> JSONValue? {
        guard let template, case .object = template else { return template }
        let defaulted = podDefaults(.ordered([("spec", template[member: "spec"] ?? .ordered([]))]))
        return template.setting("spec", to: defaulted[member: "spec"])
    }

    static func jobDefaults(_ object: JSONValue) -> JSONValue {
        guard var spec = object[member: "spec"], case .object = spec else { return object }
        // Neither given: one Pod to completion. Only completions given: one at a time.
        if spec[member: "completions"] == nil && spec[member: "parallelism"] == nil { spec = spec.setting("completions", to: .int(1)) }
        spec = filling(spec, "parallelism", .int(1))
        spec = filling(spec, "backoffLimit", .int(spec[member: "backoffLimitPerIndex"] == nil ? 6 : Int(Int32.max)))
        spec = filling(spec, "completionMode", .string("NonIndexed"))
        spec = filling(spec, "suspend", .bool(false))
        spec = filling(spec, "podReplacementPolicy", .string(spec[member: "podFailurePolicy"] == nil ? "TerminatingOrFailed" : "Failed"))
        spec = spec.setting("template", to: templateDefaults(spec[member: "template"]))
        return object.setting("spec", to: spec)
    }

    static func cronJobDefaults(_ object: JSONValue) -> JSONValue {
        guard var spec = object[member: "spec"], case .object = spec else { return object }
        spec = filling(spec, "concurrencyPolicy", .string("Allow"))
        spec = filling(spec, "suspend", .bool(false))
        spec = filling(spec, "successfulJobsHistoryLimit", .int(3))
        spec = filling(spec, "failedJobsHistoryLimit", .int(1))
        if let jobTemplate = spec[member: "jobTemplate"], case .object = jobTemplate, let jobSpec = jobTemplate[member: "spec"], case .object = jobSpec {
            spec = spec.setting("jobTemplate", to: jobTemplate.setting("spec", to: jobSpec.setting("template", to: templateDefaults(jobSpec[member: "template"]))))
        }
        return object.setting("spec", to: spec)
    }

    /// What the Job strategy adds on create unless `manualSelector`: the job-name and
    /// controller-uid labels on the pod template (the legacy unprefixed ones too) and a selector
    /// on the uid; the Job's own labels are the template's when it has none.
    public static func jobWithGeneratedSelector(_ job: JSONValue, uid: String) -> JSONValue {
        guard var spec = job[member: "spec"], case .object = spec else { return job }
        var template = spec[member: "template"] ?? .ordered([])
        if job[member: "spec"]?[member: "manualSelector"] != .bool(true) {
            var labels = template[member: "metadata"]?[member: "labels"] ?? .ordered([])
            let name = job.metadataString("name") ?? ""
            for (key, value) in [(jobControllerUIDLabel, uid), (jobNameLabel, name), ("controller-uid", uid), ("job-name", name)]
            where labels[member: key] == nil {
                labels = labels.setting(key, to: .string(value))
            }
            template = template.setting("metadata", to: (template[member: "metadata"] ?? .ordered([])).setting("labels", to: labels))
            spec = spec.setting("template", to: template)
            var selector = spec[member: "selector"] ?? .ordered([])
            var matchLabels = selector[member: "matchLabels"] ?? .ordered([])
            if matchLabels[member: jobControllerUIDLabel] == nil { matchLabels = matchLabels.setting(jobControllerUIDLabel, to: .string(uid)) }
            selector = selector.setting("matchLabels", to: matchLabels)
            spec = spec.setting("selector", to: selector)
        }
        var result = job.setting("spec", to: spec)
        if (job[member: "metadata"]?[member: "labels"]?.objectValue ?? [:]).isEmpty, let labels = template[member: "metadata"]?[member: "labels"],
           labels.objectValue?.isEmpty == false {
            result = result.settingMetadata("labels", to: labels)
        }
        return result
    }

    /// A Job's pod template may not restart its Pods by itself forever.
    static func validateJobTemplate(_ template: JSONValue?, path: String) -> [FieldError] {
        var errors: [FieldError] = []
        if (template?[member: "spec"]?[member: "containers"]?.arrayItems ?? []).isEmpty {
            errors.append(FieldError(path + ".spec.containers", .required, ""))
        }
        let policy = template?[member: "spec"]?[member: "restartPolicy"]?.stringValue ?? ""
        if policy != "OnFailure" && policy != "Never" {
            errors.append(FieldError(path + ".spec.restartPolicy", .notSupported(policy), "supported values: \"OnFailure\", \"Never\""))
        }
        return errors
    }

    static func validateJobSpec(_ spec: JSONValue?, path: String, generated: Bool) -> [FieldError] {
        var errors: [FieldError] = []
        for field in ["parallelism", "completions", "backoffLimit", "activeDeadlineSeconds", "ttlSecondsAfterFinished"] {
            guard let value = spec?[member: field] else { continue }
            guard let number = value.intValue else {
                errors.append(FieldError("\(path).\(field)", .invalid(value.stringValue ?? ""), "must be an integer"))
                continue
            }
            if field == "activeDeadlineSeconds" ? number <= 0 : number < 0 {
                errors.append(FieldError("\(path).\(field)", .invalidNumber((number)),
                                         field == "activeDeadlineSeconds" ? "must be greater than 0" : "must be greater than or equal to 0"))
            }
        }
        let mode = spec?[member: "completionMode"]?.stringValue ?? "NonIndexed"
        if mode != "NonIndexed" && mode != "Indexed" {
            errors.append(FieldError("\(path).completionMode", .notSupported(mode), "supported values: \"NonIndexed\", \"Indexed\""))
        }
        if mode == "Indexed" && spec?[member: "completions"] == nil {
            errors.append(FieldError("\(path).completions", .required, "when completion mode is Indexed"))
        }
        errors += validateJobTemplate(spec?[member: "template"], path: path + ".template")
        errors += validatePodFailurePolicy(spec, path: path)
        errors += validateSuccessPolicy(spec, path: path)
        if let perIndex = spec?[member: "backoffLimitPerIndex"], perIndex != .null {
            if mode != "Indexed" { errors.append(FieldError(path + ".backoffLimitPerIndex", .invalidNumber(perIndex.intValue ?? 0), "requires indexed completion mode")) }
            if (perIndex.intValue ?? -1) < 0 {
                errors.append(FieldError(path + ".backoffLimitPerIndex", .invalidNumber(perIndex.intValue ?? -1), "must be greater than or equal to 0"))
            }
        }
        if let most = spec?[member: "maxFailedIndexes"], most != .null {
            if spec?[member: "backoffLimitPerIndex"] == nil {
                errors.append(FieldError(path + ".maxFailedIndexes", .invalidNumber(most.intValue ?? 0), "cannot be set when backoffLimitPerIndex is not set"))
            } else if let value = most.intValue, value < 0 || value > (spec?[member: "completions"]?.intValue ?? 0) {
                errors.append(FieldError(path + ".maxFailedIndexes", .invalidNumber(value), "must be between 0 and completions"))
            }
        }
        if generated {
            if spec?[member: "selector"] == nil {
                errors.append(FieldError("\(path).selector", .required, ""))
            } else {
                let labels = LabelSelector.labels(of: spec?[member: "template"] ?? .null)
                if !LabelSelector(object: spec?[member: "selector"]).matches(labels) {
                    let text = "map[string]string{" + labels.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\"\($0.value)\"" }.joined(separator: ", ") + "}"
                    errors.append(FieldError("\(path).template.metadata.labels", .invalid(text), "`selector` does not match template `labels`"))
                }
            }
        }
        return errors
    }

    /// podFailurePolicy as batch/v1 validates it: only under restartPolicy Never; each rule a known
    /// action and one of onExitCodes (In/NotIn, ordered values without duplicates, no 0 for In) and
    /// onPodConditions.
    static func validatePodFailurePolicy(_ spec: JSONValue?, path: String) -> [FieldError] {
        guard let policy = spec?[member: "podFailurePolicy"], policy != .null else { return [] }
        var errors: [FieldError] = []
        let restart = spec?[member: "template"]?[member: "spec"]?[member: "restartPolicy"]?.stringValue ?? ""
        if restart != "Never" {
            errors.append(FieldError(path + ".template.spec.restartPolicy", .invalid(restart), "only \"Never\" is supported when podFailurePolicy is specified"))
        }
        let actions = ["Count", "FailIndex", "FailJob", "Ignore"]
        for (index, rule) in (policy[member: "rules"]?.arrayItems ?? []).enumerated() {
            let at = "\(path).podFailurePolicy.rules[\(index)]"
            let action = rule[member: "action"]?.stringValue ?? ""
            if !actions.contains(action) {
                errors.append(FieldError(at + ".action", .notSupported(action), "supported values: " + actions.map { "\"\($0)\"" }.joined(separator: ", ")))
            } else if action == "FailIndex" && spec?[member: "backoffLimitPerIndex"] == nil {
                errors.append(FieldError(at + ".action", .invalid(action), "requires the backoffLimitPerIndex to be set"))
            }
            let exitCodes = rule[member: "onExitCodes"].flatMap { $0 == .null ? nil : $0 }
            let conditions = rule[member: "onPodConditions"]?.arrayItems
            switch (exitCodes, conditions) {
            case (.some, .some): errors.append(FieldError(at, .invalid(""), "specifying both OnExitCodes and OnPodConditions is not supported"))
            case (nil, nil): errors.append(FieldError(at, .invalid(""), "specifying one of OnExitCodes and OnPodConditions is required"))
            default: break
            }
            if let exitCodes {
                let operation = exitCodes[member: "operator"]?.stringValue ?? ""
                if operation != "In" && operation != "NotIn" {
                    errors.append(FieldError(at + ".onExitCodes.operator", .notSupported(operation), "supported values: \"In\", \"NotIn\""))
                }
                let values = (exitCodes[member: "values"]?.arrayItems ?? []).map { $0.intValue }
                if values.isEmpty { errors.append(FieldError(at + ".onExitCodes.values", .invalid("[]"), "at least one value is required")) }
                for (position, value) in values.enumerated() {
                    let field = at + ".onExitCodes.values[\(position)]"
                    guard let value else { errors.append(FieldError(field, .invalid(""), "must be an integer")); continue }
                    if value == 0 && operation == "In" { errors.append(FieldError(field, .invalidNumber(0), "must not be 0 for the In operator")) }
                    if position > 0, let previous = values[position - 1] {
                        if previous == value { errors.append(FieldError(field, .duplicateNumber((value)), "")) }
                        else if previous > value { errors.append(FieldError(field, .invalidNumber((value)), "must be ordered")) }
                    }
                }
            }
        }
        return errors
    }

    /// An index list as Jobs write them (`succeededIndexes`, `status.failedIndexes`: "0,2-4,7"):
    /// its intervals in order, or nil unless it is ascending, non-overlapping intervals of indexes.
    public static func indexIntervals(_ text: String) -> [ClosedRange<Int>]? {
        if text.isEmpty { return [] }
        var ranges: [ClosedRange<Int>] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = part.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false).map { Int(String($0)) }
            guard let first = bounds.first ?? nil, let end = bounds.last ?? nil, first <= end, first > (ranges.last?.upperBound ?? -1) else { return nil }
            ranges.append(first...end)
        }
        return ranges
    }

    /// successPolicy as batch/v1 validates it: Indexed Jobs only; each rule names indexes below
    /// `completions` ("0,2-4", ascending), a count no more than `completions` (and no more than the
    /// indexes it names), or both.
    static func validateSuccessPolicy(_ spec: JSONValue?, path: String) -> [FieldError] {
        guard let policy = spec?[member: "successPolicy"], policy != .null else { return [] }
        let at = path + ".successPolicy"
        guard spec?[member: "completionMode"]?.stringValue == "Indexed" else {
            return [FieldError(at, .invalid(""), "requires indexed completion mode")]
        }
        let rules = policy[member: "rules"]?.arrayItems ?? []
        if rules.isEmpty { return [FieldError(at + ".rules", .required, "at least one rules must be specified when the successPolicy is specified")] }
        let completions = spec?[member: "completions"]?.intValue ?? 0
        var errors: [FieldError] = []
        for (index, rule) in rules.enumerated() {
            let field = "\(at).rules[\(index)]"
            let named = rule[member: "succeededIndexes"]?.stringValue
            let count = rule[member: "succeededCount"]?.intValue
            if named == nil && count == nil {
                errors.append(FieldError(field, .required, "at least one of succeededCount or succeededIndexes must be specified"))
            }
            var size: Int?
            if let named {
                if let ranges = indexIntervals(named), let last = ranges.last, last.upperBound < completions {
                    size = ranges.reduce(0) { $0 + $1.count }
                } else {
                    errors.append(FieldError(field + ".succeededIndexes", .invalid(named),
                                             "must be ascending intervals of indexes (\"0,2-4\") below completions (\(completions))"))
                }
            }
            if let count {
                if count < 0 { errors.append(FieldError(field + ".succeededCount", .invalidNumber(count), "must be greater than or equal to 0")) }
                else if count > completions {
                    errors.append(FieldError(field + ".succeededCount", .invalidNumber(count), "must be less than or equal to \(completions) (the number of specified completions)"))
                } else if let size, count > size {
                    errors.append(FieldError(field + ".succeededCount", .invalidNumber(count), "must be less than or equal to \(size) (the number of indexes in the specified succeededIndexes field)"))
                }
            }
        }
        return errors
    }

    static func validateJob(_ object: JSONValue) -> [FieldError] {
        validateJobSpec(object[member: "spec"], path: "spec", generated: true)
    }

    /// A Job's selector, template and completion mode are fixed once it exists.
    static func validateJobUpdate(old: JSONValue, new: JSONValue) -> [FieldError] {
        var errors: [FieldError] = []
        let was = old[member: "spec"], now = new[member: "spec"]
        if was?[member: "selector"] != now?[member: "selector"] {
            errors.append(FieldError("spec.selector", .invalid(KubeKinds.selectorText(now?[member: "selector"])), "field is immutable"))
        }
        if was?[member: "completionMode"] != now?[member: "completionMode"] {
            errors.append(FieldError("spec.completionMode", .invalid(now?[member: "completionMode"]?.stringValue ?? ""), "field is immutable"))
        }
        if was?[member: "completions"] != now?[member: "completions"] {
            errors.append(FieldError("spec.completions", .invalid(now?[member: "completions"]?.numberText ?? ""), "field is immutable"))
        }
        if was?[member: "template"] != now?[member: "template"] {
            errors.append(FieldError("spec.template", .invalid(""), "field is immutable"))
        }
        return errors
    }

    static func validateCronJob(_ object: JSONValue) -> [FieldError] {
        var errors: [FieldError] = []
        let name = object.metadataString("name") ?? ""
        // Its Jobs are named NAME-<minutes>: 11 more characters within a label's 63.
        if name.utf8.count > 52 { errors.append(FieldError("metadata.name", .invalid(name), "must be no more than 52 characters")) }
        let spec = object[member: "spec"]
        let schedule = spec?[member: "schedule"]?.stringValue ?? ""
        if schedule.isEmpty {
            errors.append(FieldError("spec.schedule", .required, ""))
        } else if schedule.contains("TZ=") {
            errors.append(FieldError("spec.schedule", .invalid(schedule), "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"))
        } else {
            do throws(CronSchedule.ParseError) { _ = try CronSchedule(schedule) } catch {
                errors.append(FieldError("spec.schedule", .invalid(schedule), error.message))
            }
        }
        if let zone = spec?[member: "timeZone"]?.stringValue, TimeZoneRules.load(zone) == nil {
            errors.append(FieldError("spec.timeZone", .invalid(zone), TimeZoneRules.isValidName(zone)
                ? "unknown time zone \(zone)" : "unknown time zone \(zone); must be an IANA time zone name such as Europe/Berlin"))
        }
        let policy = spec?[member: "concurrencyPolicy"]?.stringValue ?? "Allow"
        if !["Allow", "Forbid", "Replace"].contains(policy) {
            errors.append(FieldError("spec.concurrencyPolicy", .notSupported(policy), "supported values: \"Allow\", \"Forbid\", \"Replace\""))
        }
        for field in ["startingDeadlineSeconds", "successfulJobsHistoryLimit", "failedJobsHistoryLimit"] {
            if let number = spec?[member: field]?.intValue, number < 0 {
                errors.append(FieldError("spec.\(field)", .invalidNumber((number)), "must be greater than or equal to 0"))
            }
        }
        if spec?[member: "jobTemplate"]?[member: "spec"] == nil {
            errors.append(FieldError("spec.jobTemplate.spec", .required, ""))
        } else {
            errors += validateJobSpec(spec?[member: "jobTemplate"]?[member: "spec"], path: "spec.jobTemplate.spec", generated: false)
        }
        return errors
    }
}
