package samtemplate

import (
	"reflect"
	"strings"
	"testing"
)

// TestRealTemplateSchedules pins the schedules of template.yaml as the
// local runner reads them, under both ScoreRunner settings: the nightly
// score runs through ScoreNightlyRule by default and through the state
// machine's own schedule otherwise.
func TestRealTemplateSchedules(t *testing.T) {
	tpl := realTemplate(t)
	type row struct {
		name, expr string
		enabled    bool
		target     string
	}
	for _, tc := range []struct {
		runner string
		want   []row
	}{
		{"function", []row{
			{"CampaignsFunctionRefresh", "rate(1 hour)", true, "CampaignsFunction"},
			{"CartsFunctionAbandoned", "rate(15 minutes)", true, "CartsFunction"},
			{"ScoreNightlyRule", "cron(30 2 * * ? *)", true, "ScoreFunction"},
			{"ScoreStateMachineNightly", "cron(30 2 * * ? *)", false, "ScoreStateMachine"},
			{"TrainFunctionNightly", "cron(30 2 * * ? *)", true, "TrainFunction"},
		}},
		{"statemachine", []row{
			{"CampaignsFunctionRefresh", "rate(1 hour)", true, "CampaignsFunction"},
			{"CartsFunctionAbandoned", "rate(15 minutes)", true, "CartsFunction"},
			{"ScoreStateMachineNightly", "cron(30 2 * * ? *)", true, "ScoreStateMachine"},
			{"TrainFunctionNightly", "cron(30 2 * * ? *)", true, "TrainFunction"},
		}},
	} {
		r := &Resolver{Template: tpl, TablePrefix: "tl-", Region: "eu-west-1", Params: map[string]string{"ScoreRunner": tc.runner}}
		got, err := r.Schedules()
		if err != nil {
			t.Fatalf("%s: %v", tc.runner, err)
		}
		var rows []row
		for _, s := range got {
			if len(s.Targets) != 1 {
				t.Fatalf("%s: %s has %d targets", tc.runner, s.Name, len(s.Targets))
			}
			rows = append(rows, row{s.Name, s.Expression, s.Enabled, s.Targets[0].LogicalID})
		}
		if !reflect.DeepEqual(rows, tc.want) {
			t.Errorf("ScoreRunner=%s: schedules\n%v\nwant\n%v", tc.runner, rows, tc.want)
		}
	}
	r := &Resolver{Template: tpl, TablePrefix: "tl-", Region: "eu-west-1"}
	got, _ := r.Schedules()
	for _, s := range got {
		switch s.Name {
		case "TrainFunctionNightly":
			if s.ARN != "arn:aws:events:eu-west-1:123456789012:rule/tl-TrainFunctionNightly" ||
				s.Targets[0].ARN != "arn:aws:lambda:eu-west-1:123456789012:function:TrainFunction" || s.Targets[0].Input != "" {
				t.Errorf("TrainFunctionNightly = %+v", s)
			}
		case "ScoreNightlyRule":
			if s.ARN != "arn:aws:events:eu-west-1:123456789012:rule/tl-ScoreNightlyRule" || s.Targets[0].Type != TypeFunction {
				t.Errorf("ScoreNightlyRule = %+v", s)
			}
		}
	}
}

func TestScheduleFixture(t *testing.T) {
	tpl, err := ParseBytes([]byte(`
Parameters:
  On:
    Type: String
    Default: "no"
Conditions:
  IsOn: !Equals [!Ref On, "yes"]
Resources:
  JobFunction:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        Hourly:
          Type: Schedule
          Properties:
            Schedule: rate(1 hour)
            Input: '{"mode":"full"}'
            Name: job-hourly
        Switched:
          Type: Schedule
          Properties:
            Schedule: cron(0 1 * * ? *)
            State: !If [IsOn, ENABLED, DISABLED]
        Later:
          Type: ScheduleV2
          Properties:
            ScheduleExpression: cron(0 9 ? * MON-FRI *)
            ScheduleExpressionTimezone: Europe/London
  Rule:
    Type: AWS::Events::Rule
    Condition: IsOn
    Properties:
      ScheduleExpression: rate(5 minutes)
      Targets:
        - Id: a
          Arn: !GetAtt JobFunction.Arn
          Input: '{"from":"rule"}'
        - Id: b
          Arn: !GetAtt JobFunction.Arn
          InputPath: $.detail
  NotSchedule:
    Type: AWS::Events::Rule
    Properties:
      EventPattern: {source: [x]}
`))
	if err != nil {
		t.Fatal(err)
	}
	names := func(params map[string]string) map[string]Schedule {
		r := &Resolver{Template: tpl, TablePrefix: "p-", Params: params}
		got, err := r.Schedules()
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]Schedule{}
		for _, s := range got {
			out[s.Name] = s
		}
		return out
	}
	off := names(nil)
	if len(off) != 3 {
		t.Fatalf("with the condition off: %v", off)
	}
	if s := off["JobFunctionHourly"]; s.Targets[0].Input != `{"mode":"full"}` || !s.Enabled ||
		!strings.HasSuffix(s.ARN, ":rule/job-hourly") {
		t.Errorf("JobFunctionHourly = %+v", s)
	}
	if s := off["JobFunctionSwitched"]; s.Enabled {
		t.Errorf("JobFunctionSwitched enabled with the condition off")
	}
	if s := off["JobFunctionLater"]; s.Type != "ScheduleV2" || s.Timezone != "Europe/London" ||
		!strings.Contains(s.ARN, ":schedule/default/p-JobFunctionLater") {
		t.Errorf("JobFunctionLater = %+v", s)
	}
	on := names(map[string]string{"On": "yes"})
	if !on["JobFunctionSwitched"].Enabled {
		t.Errorf("JobFunctionSwitched disabled with the condition on")
	}
	rule, ok := on["Rule"]
	if !ok || rule.Type != TypeRule || len(rule.Targets) != 2 {
		t.Fatalf("Rule = %+v", rule)
	}
	if a := rule.Targets[0]; a.LogicalID != "JobFunction" || a.Input != `{"from":"rule"}` || a.Unsupported != "" {
		t.Errorf("target a = %+v", a)
	}
	if b := rule.Targets[1]; b.Unsupported != "InputPath" {
		t.Errorf("target b = %+v", b)
	}
}

func TestQueues(t *testing.T) {
	r := &Resolver{Template: realTemplate(t), TablePrefix: "tl-", Region: "eu-west-1"}
	got, err := r.Queues()
	if err != nil {
		t.Fatal(err)
	}
	want := []Queue{
		{LogicalID: "IngestDeadLetterQueue", Name: "tl-IngestDeadLetterQueue", ARN: "arn:aws:sqs:eu-west-1:123456789012:tl-IngestDeadLetterQueue",
			MessageRetentionPeriod: 1209600},
		{LogicalID: "IngestQueue", Name: "tl-IngestQueue", ARN: "arn:aws:sqs:eu-west-1:123456789012:tl-IngestQueue",
			VisibilityTimeout: 180, MessageRetentionPeriod: 345600,
			DeadLetterTargetARN: "arn:aws:sqs:eu-west-1:123456789012:tl-IngestDeadLetterQueue", MaxReceiveCount: 5},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("queues\n%+v\nwant\n%+v", got, want)
	}

	tpl, err := ParseBytes([]byte(`
Parameters:
  Visibility: {Type: Number, Default: 45}
Resources:
  Dlq: {Type: AWS::SQS::Queue}
  Work:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: !Ref Visibility
      FifoQueue: false
      RedrivePolicy: '{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:123456789012:x-Dlq","maxReceiveCount":"3"}'
`))
	if err != nil {
		t.Fatal(err)
	}
	got, err = (&Resolver{Template: tpl, TablePrefix: "x-"}).Queues()
	if err != nil {
		t.Fatal(err)
	}
	if w := got[1]; w.VisibilityTimeout != 45 || w.MaxReceiveCount != 3 || w.FIFO || !strings.HasSuffix(w.DeadLetterTargetARN, ":x-Dlq") {
		t.Errorf("Work = %+v", w)
	}
}
