import GoCompat

/// The protobuf schemas of the workload kinds kubectl's typed clients create (`kubectl create job
/// [--from=cronjob/x]`, `kubectl create cronjob`, `kubectl create deployment`): their specs and the
/// pod template inside them, with the field numbers of k8s.io/api's generated.proto. The pod spec
/// covers what templates commonly carry; a member not listed here is dropped, as an unknown
/// JSON field would be.
extension KubeProtobuf {
    static let labelSelector: [Int: (String, Field)] = [
        1: ("matchLabels", .stringMap),
        2: ("matchExpressions", .messages([1: ("key", .string), 2: ("operator", .string), 3: ("values", .strings)])),
    ]
    static let localObject: [Int: (String, Field)] = [1: ("name", .string)]
    static let keySelector: [Int: (String, Field)] = [1: ("localObjectReference", .inline(localObject)), 2: ("key", .string), 3: ("optional", .bool)]
    static let envVar: [Int: (String, Field)] = [
        1: ("name", .string), 2: ("value", .string),
        3: ("valueFrom", .message([
            1: ("fieldRef", .message([1: ("apiVersion", .string), 2: ("fieldPath", .string)])),
            2: ("resourceFieldRef", .message([1: ("containerName", .string), 2: ("resource", .string), 3: ("divisor", .quantity)])),
            3: ("configMapKeyRef", .message(keySelector)),
            4: ("secretKeyRef", .message(keySelector)),
        ])),
    ]
    static let envFrom: [Int: (String, Field)] = [
        1: ("prefix", .string),
        2: ("configMapRef", .message([1: ("localObjectReference", .inline(localObject)), 2: ("optional", .bool)])),
        3: ("secretRef", .message([1: ("localObjectReference", .inline(localObject)), 2: ("optional", .bool)])),
    ]
    static let handler: [Int: (String, Field)] = [
        1: ("exec", .message([1: ("command", .strings)])),
        2: ("httpGet", .message([1: ("path", .string), 2: ("port", .intOrString), 3: ("host", .string), 4: ("scheme", .string),
                                 5: ("httpHeaders", .messages([1: ("name", .string), 2: ("value", .string)]))])),
        3: ("tcpSocket", .message([1: ("port", .intOrString), 2: ("host", .string)])),
    ]
    static let probe: [Int: (String, Field)] = [
        1: ("handler", .inline(handler.merging([4: ("grpc", .message([1: ("port", .int), 2: ("service", .string)]))]) { $1 })),
        2: ("initialDelaySeconds", .int), 3: ("timeoutSeconds", .int), 4: ("periodSeconds", .int), 5: ("successThreshold", .int),
        6: ("failureThreshold", .int), 7: ("terminationGracePeriodSeconds", .pointerInt),
    ]
    static let lifecycleHandler = handler.merging([4: ("sleep", .message([1: ("seconds", .pointerInt)]))]) { $1 }
    static let container: [Int: (String, Field)] = [
        1: ("name", .string), 2: ("image", .string), 3: ("command", .strings), 4: ("args", .strings), 5: ("workingDir", .string),
        6: ("ports", .messages([1: ("name", .string), 2: ("hostPort", .int), 3: ("containerPort", .int), 4: ("protocol", .string), 5: ("hostIP", .string)])),
        7: ("env", .messages(envVar)),
        8: ("resources", .message([1: ("limits", .quantityMap), 2: ("requests", .quantityMap)])),
        9: ("volumeMounts", .messages([1: ("name", .string), 2: ("readOnly", .flag), 3: ("mountPath", .string), 4: ("subPath", .string),
                                       5: ("mountPropagation", .string), 6: ("subPathExpr", .string)])),
        10: ("livenessProbe", .message(probe)), 11: ("readinessProbe", .message(probe)),
        12: ("lifecycle", .message([1: ("postStart", .message(lifecycleHandler)), 2: ("preStop", .message(lifecycleHandler))])),
        13: ("terminationMessagePath", .string), 14: ("imagePullPolicy", .string),
        15: ("securityContext", .message([
            1: ("capabilities", .message([1: ("add", .strings), 2: ("drop", .strings)])), 2: ("privileged", .bool),
            4: ("runAsUser", .pointerInt), 5: ("runAsNonRoot", .bool), 6: ("readOnlyRootFilesystem", .bool),
            7: ("allowPrivilegeEscalation", .bool), 8: ("runAsGroup", .pointerInt),
        ])),
        16: ("stdin", .flag), 17: ("stdinOnce", .flag), 18: ("tty", .flag), 19: ("envFrom", .messages(envFrom)),
        20: ("terminationMessagePolicy", .string), 22: ("startupProbe", .message(probe)), 24: ("restartPolicy", .string),
    ]
    static let keyToPath: [Int: (String, Field)] = [1: ("key", .string), 2: ("path", .string), 3: ("mode", .pointerInt)]
    static let volume: [Int: (String, Field)] = [
        1: ("name", .string),
        2: ("volumeSource", .inline([
            1: ("hostPath", .message([1: ("path", .string), 2: ("type", .string)])),
            2: ("emptyDir", .message([1: ("medium", .string), 2: ("sizeLimit", .quantity)])),
            6: ("secret", .message([1: ("secretName", .string), 2: ("items", .messages(keyToPath)), 3: ("defaultMode", .pointerInt), 4: ("optional", .bool)])),
            10: ("persistentVolumeClaim", .message([1: ("claimName", .string), 2: ("readOnly", .flag)])),
            19: ("configMap", .message([1: ("localObjectReference", .inline(localObject)), 2: ("items", .messages(keyToPath)),
                                        3: ("defaultMode", .pointerInt), 4: ("optional", .bool)])),
        ])),
    ]
    static let podSpec: [Int: (String, Field)] = [
        1: ("volumes", .messages(volume)), 2: ("containers", .messages(container)), 3: ("restartPolicy", .string),
        4: ("terminationGracePeriodSeconds", .pointerInt), 5: ("activeDeadlineSeconds", .pointerInt), 6: ("dnsPolicy", .string),
        7: ("nodeSelector", .stringMap), 8: ("serviceAccountName", .string), 9: ("serviceAccount", .string), 10: ("nodeName", .string),
        11: ("hostNetwork", .flag), 12: ("hostPID", .flag), 13: ("hostIPC", .flag),
        14: ("securityContext", .message([2: ("runAsUser", .pointerInt), 3: ("runAsNonRoot", .bool), 5: ("fsGroup", .pointerInt),
                                          6: ("runAsGroup", .pointerInt)])),
        15: ("imagePullSecrets", .messages(localObject)), 16: ("hostname", .string), 17: ("subdomain", .string),
        19: ("schedulerName", .string), 20: ("initContainers", .messages(container)), 21: ("automountServiceAccountToken", .bool),
        22: ("tolerations", .messages([1: ("key", .string), 2: ("operator", .string), 3: ("value", .string), 4: ("effect", .string),
                                       5: ("tolerationSeconds", .pointerInt)])),
        23: ("hostAliases", .messages([1: ("ip", .string), 2: ("hostnames", .strings)])), 24: ("priorityClassName", .string),
        25: ("priority", .pointerInt), 27: ("shareProcessNamespace", .bool), 29: ("runtimeClassName", .string),
        30: ("enableServiceLinks", .bool), 31: ("preemptionPolicy", .string), 35: ("setHostnameAsFQDN", .bool),
        36: ("os", .message([1: ("name", .string)])), 37: ("hostUsers", .bool),
    ]
    static let podTemplate: [Int: (String, Field)] = [1: ("metadata", .message(objectMeta)), 2: ("spec", .message(podSpec))]
    static let jobSpec: [Int: (String, Field)] = [
        1: ("parallelism", .pointerInt), 2: ("completions", .pointerInt), 3: ("activeDeadlineSeconds", .pointerInt),
        4: ("selector", .message(labelSelector)), 5: ("manualSelector", .bool), 6: ("template", .message(podTemplate)),
        7: ("backoffLimit", .pointerInt), 8: ("ttlSecondsAfterFinished", .pointerInt), 9: ("completionMode", .string),
        10: ("suspend", .bool), 12: ("backoffLimitPerIndex", .pointerInt), 13: ("maxFailedIndexes", .pointerInt),
        14: ("podReplacementPolicy", .string), 15: ("managedBy", .string),
    ]
    static let workloadSchemas: [String: [Int: (String, Field)]] = [
        "Job": [1: ("metadata", .message(objectMeta)), 2: ("spec", .message(jobSpec))],
        "CronJob": [1: ("metadata", .message(objectMeta)), 2: ("spec", .message([
            1: ("schedule", .string), 2: ("startingDeadlineSeconds", .pointerInt), 3: ("concurrencyPolicy", .string), 4: ("suspend", .bool),
            5: ("jobTemplate", .message([1: ("metadata", .message(objectMeta)), 2: ("spec", .message(jobSpec))])),
            6: ("successfulJobsHistoryLimit", .pointerInt), 7: ("failedJobsHistoryLimit", .pointerInt), 8: ("timeZone", .string),
        ]))],
        "Deployment": [1: ("metadata", .message(objectMeta)), 2: ("spec", .message([
            1: ("replicas", .pointerInt), 2: ("selector", .message(labelSelector)), 3: ("template", .message(podTemplate)),
            4: ("strategy", .message([1: ("type", .string), 2: ("rollingUpdate", .message([1: ("maxUnavailable", .intOrString), 2: ("maxSurge", .intOrString)]))])),
            5: ("minReadySeconds", .int), 6: ("revisionHistoryLimit", .pointerInt), 7: ("paused", .flag), 9: ("progressDeadlineSeconds", .pointerInt),
        ]))],
    ]
}
